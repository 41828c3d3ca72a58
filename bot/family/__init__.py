"""What families do, in no channel's terms: functions that take a person and an input (a text,
or a button's data) and return what to show (bot.chat.screens). A channel's adapter (for
Telegram: handlers/) turns an update into the input and draws the reply."""
