"""A module a suite's moduleDirectory makes importable from the definition's Python."""


def too_hot(celsius):
    return celsius > 30
