"""The catalog: what is on each shelf."""

BOOKS = [
    {"title": "Les Misérables", "genre": "novel", "net": 12.5},
    {"title": "Middlemarch", "genre": "novel", "net": 9.9},
    {"title": "Leaves of Grass", "genre": "poetry", "net": 7.2},
    {"title": "Les Fleurs du mal", "genre": "poetry", "net": 6.4},
]


def load(genre: str) -> list:
    """The books of one genre (one task per genre: the spec fans this out)."""
    return [book for book in BOOKS if book["genre"] == genre]
