"""Branches, halls and video rooms, their equipment and staff rosters."""
