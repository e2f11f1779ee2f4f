"""Password rules: long enough, not the username, not a common password.

The list is short on purpose: at 12 characters or more, what attackers try first are the
common words and keyboard runs with digits or symbols appended, which ``weak_reason``
recognizes by stripping those tails, plus a few dozen frequent long passwords.
"""

from __future__ import annotations

import re

MIN_PASSWORD_CHARS = 12
MIN_DISTINCT_CHARS = 5

COMMON_WORDS = frozenset(
    (
        "password",
        "passw0rd",
        "p@ssword",
        "p@ssw0rd",
        "qwerty",
        "qwertyuiop",
        "qwertz",
        "azerty",
        "asdfgh",
        "asdfghjkl",
        "zxcvbn",
        "zxcvbnm",
        "1q2w3e4r",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "1qaz2wsx",
        "1qaz2wsx3edc",
        "zaq12wsx",
        "zaq1xsw2",
        "qazwsx",
        "letmein",
        "welcome",
        "iloveyou",
        "admin",
        "administrator",
        "root",
        "changeme",
        "secret",
        "master",
        "dragon",
        "monkey",
        "shadow",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "basketball",
        "superman",
        "batman",
        "starwars",
        "trustno1",
        "whatever",
        "computer",
        "internet",
        "freedom",
        "michael",
        "jennifer",
        "charlie",
        "abc",
        "abcdef",
        "abcdefgh",
        "abcdefghijkl",
        "default",
        "guest",
        "login",
        "user",
        "test",
        "testing",
        "stormdesk",
        "demo",
        "helloworld",
        "hello",
        "letmeinnow",
        "mypassword",
        "yourpassword",
        "nopassword",
    )
)
_TAIL = re.compile(r"[\d\W_]+$")
_RUN = "01234567890 abcdefghijklmnopqrstuvwxyz qwertyuiop asdfghjkl zxcvbnm"


def weak_reason(password: str, username: str) -> str | None:
    """Why ``password`` is refused for ``username`` (None when it is acceptable)."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"password must have at least {MIN_PASSWORD_CHARS} characters"
    folded = password.casefold()
    name = username.strip().casefold()
    if name and (folded == name or (name in folded and len(folded) - len(name) < 6)):
        return "password must not be (or be built from) the username"
    if len(set(folded)) < MIN_DISTINCT_CHARS:
        return f"password must use at least {MIN_DISTINCT_CHARS} different characters"
    base = _TAIL.sub("", folded)
    if folded in COMMON_WORDS or base in COMMON_WORDS or (len(base) < 4 and base != folded):
        return "password is a common password (a common word with digits or symbols added)"
    if folded in _RUN or base in _RUN or folded.isdigit():
        return "password is a keyboard or number run: choose a passphrase"
    return None
