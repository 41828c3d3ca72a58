"""What may be shown and every way to show it:
disclosure, report, breakdown, tables, pictures, charts, exports, closing.
"""
