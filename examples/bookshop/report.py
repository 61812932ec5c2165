"""The report: a third-party package (tabulate, declared in the spec) and an absolute import."""

from tabulate import tabulate

from bookshop import money


def report(priced: list) -> str:
    rows = [(b["title"], b["genre"], money.show(b["price"])) for b in priced]
    total = money.show(sum(b["price"] for b in priced))
    table = tabulate(rows + [("total", "", total)], headers=["title", "genre", "price"])
    print(table)
    return table
