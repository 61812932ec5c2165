"""Money helpers shared by pricing and the report."""

CURRENCY = "EUR"
VAT = 0.055  # reduced rate on books


def with_vat(net: float) -> float:
    return round(net * (1 + VAT), 2)


def show(amount: float) -> str:
    return f"{amount:,.2f} {CURRENCY}"
