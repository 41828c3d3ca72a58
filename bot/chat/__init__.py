"""What every handler uses to talk to a person:
the typed context, commands, menus, keyboards, throttles, formatting.
"""
