"""Functions used by the bundled examples. heraspec reads this file; it never imports it."""


def say(msg: str) -> str:
    print(msg)
    return msg
