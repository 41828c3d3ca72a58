"""How a poll is put to a family and read back:
question kinds, rendering, asking, checking typed input.
"""
