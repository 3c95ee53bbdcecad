"""How a pre-incasso step reaches the debtor: one channel per form (letter, stamp, e-mail, ...).

The engine hands a channel a finished :class:`OutgoingMessage`; the channel says what happened.
"""
