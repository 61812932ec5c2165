"""Prices with VAT and a discount; uses the money module through a relative import."""

from .money import with_vat


def price_list(shelves: list, discount: float = 0.0) -> list:
    """Every book of every shelf (the fan-out's results, one list per genre) with its shop price."""
    priced = []
    for shelf in shelves:
        for book in shelf:
            priced.append({**book, "price": with_vat(book["net"] * (1 - discount))})
    return sorted(priced, key=lambda b: b["price"], reverse=True)
