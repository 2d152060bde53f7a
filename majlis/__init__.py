"""Majlis: the project package that wires the domains together."""
