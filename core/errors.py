"""The one exception type whose message is written for the person using the tool."""


class UserError(Exception):
    """Bad input or a missing asset. The message names the problem and what to do about it;
    the CLI prints it and the dashboard shows it, never a traceback."""
