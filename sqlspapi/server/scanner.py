"""The text-level scanner of PostgreSQL statements, linear in time and constant in memory.

:func:`pieces` walks a query's quoted strings (``''``, ``E'…'`` with backslashes, ``"identifiers"``, ``$tag$…$tag$``)
and comments (``--``, nested ``/* */``) with ``str.find`` and possessive regexes only; :func:`split_statements`,
:func:`first_words` and :func:`leading_code` are built on it. :func:`lift_literals` takes string literals longer than
:data:`BIG_LITERAL` out of the text (bound as values instead), and :func:`check_complexity` refuses, with 54001,
what the recursive SQL parser could only fail on (deep nesting, long operator runs, too many tokens) — before it
parses. :mod:`sqlspapi.server.translate` re-exports these names.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from .pgerror import too_complex

# ---- the scanner: statements, quotes and comments in linear time and constant memory ------------------------------
# Each construct is found with str.find or one possessive regex (no backtracking, no per-character state), so a
# query of N bytes costs O(N) time and O(1) memory beyond the statements cut out of it.
_NEXT = re.compile(r"""['";$]|--|/\*""")  # what may open a quoted piece or a comment, or end a statement
_STRING_REST = re.compile(r"[^']*+(?:''[^']*+)*+'")  # after the opening quote; '' is a quote inside
_IDENT_REST = re.compile(r'[^"]*+(?:""[^"]*+)*+"')
_ESCAPE_REST = re.compile(r"(?:[^'\\]++|\\.|'')*+'", re.S)  # E'…': a backslash escapes the next character
_COMMENT_MARK = re.compile(r"/\*|\*/")  # block comments nest in PostgreSQL
_DOLLAR_TAG = re.compile(r"\$(?:[^\W\d]\w*)?\$")  # $$ or $tag$ ($1 is a parameter, not a tag)
_NON_SPACE = re.compile(r"\S")
_WORD = re.compile(r"[A-Za-z_]+")
WORD_CHARS = 63  # PostgreSQL's identifier length; a longer word is cut (keywords are much shorter)
STRING, IDENTIFIER, COMMENT, END = "'", '"', "-", ";"  # kinds of pieces (a dollar-quoted string is a STRING)


def _word_char(char: str) -> bool:
    return char.isalnum() or char in "_$"


def _rest(pattern: re.Pattern[str], sql: str, pos: int) -> int:
    match = pattern.match(sql, pos)
    return match.end() if match else len(sql)  # unterminated: to the end (sqlglot then reports it)


def _block_comment_end(sql: str, pos: int) -> int:
    depth = 1
    while depth and (mark := _COMMENT_MARK.search(sql, pos)) is not None:
        depth += 1 if mark.group() == "/*" else -1
        pos = mark.end()
    return len(sql) if depth else pos


def pieces(sql: str) -> Iterator[tuple[str, int, int]]:
    """``(kind, start, end)`` of each string (``'…'``, ``E'…'``, ``$tag$…$tag$``: kind STRING), quoted identifier,
    comment (``--`` and nested ``/* */``) and statement-ending ``;`` (END) of ``sql`` in order; what lies between
    them is plain SQL. An unterminated piece runs to the end.

    Linear in the length of ``sql`` and constant in memory (a 100 MB literal costs nothing beyond its own bytes);
    lazy, so a caller reading the first words stops early.
    """
    pos, size = 0, len(sql)
    while (found := _NEXT.search(sql, pos)) is not None:
        start, mark = found.start(), found.group()
        if mark == ";":
            kind, end = END, start + 1
        elif mark == "'":
            escaped = start > 0 and sql[start - 1] in "eE" and not (start > 1 and _word_char(sql[start - 2]))
            kind, end = STRING, _rest(_ESCAPE_REST if escaped else _STRING_REST, sql, start + 1)
            start -= 1 if escaped else 0
        elif mark == '"':
            kind, end = IDENTIFIER, _rest(_IDENT_REST, sql, start + 1)
        elif mark == "--":
            newline = sql.find("\n", start)
            kind, end = COMMENT, size if newline < 0 else newline
        elif mark == "/*":
            kind, end = COMMENT, _block_comment_end(sql, start + 2)
        else:  # "$": a dollar quote, unless it is a $1 parameter or inside a name (a$b)
            tag = _DOLLAR_TAG.match(sql, start)
            if tag is None or start > 0 and _word_char(sql[start - 1]):
                pos = start + 1
                continue
            close = sql.find(tag.group(), tag.end())
            kind, end = STRING, size if close < 0 else close + len(tag.group())
        yield kind, start, end
        pos = end


def _with_end(sql: str) -> Iterator[tuple[str, int, int]]:
    """:func:`pieces`, then an END at the end of ``sql`` (so the plain SQL after the last piece is seen too)."""
    return itertools.chain(pieces(sql), [(END, len(sql), len(sql))])


def split_statements(sql: str) -> list[str]:
    """Split a simple-query string on ``;`` outside quotes, dollar quotes and comments; drop empty statements.

    A query of one statement, alone or followed by one ``;`` and white space, comes back whole (stripped, the ``;``
    kept: every statement reads past it, as in a Parse message), so a 100 MB statement is not copied."""
    spans, start, plain, content = [], 0, 0, False
    for kind, at, end in _with_end(sql):
        content = content or kind in (STRING, IDENTIFIER) or _NON_SPACE.search(sql, plain, at) is not None
        if kind == END:
            if content:
                spans.append((start, at))
            start, content = end, False
        plain = end
    if len(spans) == 1 and spans[0][0] == 0 and _NON_SPACE.search(sql, spans[0][1] + 1) is None:
        return [sql.strip()]
    return [sql[first:last].strip() for first, last in spans]


def first_words(sql: str, count: int = 2) -> list[str]:
    """The first ``count`` words of a statement, lower case, outside comments and string literals (words of a
    quoted identifier count: ``SHOW "TimeZone"``)."""
    words: list[str] = []
    plain = 0
    for kind, at, end in _with_end(sql):
        for span in [(plain, at)] + ([(at, end)] if kind == IDENTIFIER else []):
            for word in _WORD.finditer(sql, *span):
                words.append(sql[word.start():min(word.end(), word.start() + WORD_CHARS)].lower())
                if len(words) == count:
                    return words
        plain = end
    return words


def leading_code(sql: str) -> str:
    """``sql`` from its first character that is neither white space nor part of a comment."""
    plain = 0
    for kind, at, end in _with_end(sql):
        code = _NON_SPACE.search(sql, plain, at)
        if code is not None or kind != COMMENT:
            return sql[code.start() if code is not None else at:]
        plain = end
    return ""


#: String literals longer than this many characters do not go through sqlglot: each becomes a value bound after the
#: client's parameters (``Translation.values``), so a 100 MB literal is neither parsed nor copied into the SQL text.
BIG_LITERAL = 4096
_PARAMETER = re.compile(r"(?<![\w$])\$(\d+)")


def _string_value(sql: str, start: int, end: int) -> str | None:
    """The value of the complete ``'…'`` or ``$tag$…$tag$`` string ``sql[start:end]``; None for an ``E'…'`` string or
    an unterminated one (sqlglot reads and reports those)."""
    if sql[start] == "'":
        return sql[start + 1:end - 1].replace("''", "'") if _STRING_REST.match(sql, start + 1) else None
    tag = _DOLLAR_TAG.match(sql, start)
    if tag is None or end - start < 2 * len(tag.group()) or not sql.startswith(tag.group(), end - len(tag.group())):
        return None
    return sql[tag.end():end - len(tag.group())]


def lift_literals(sql: str) -> tuple[str, int, list[object]]:
    """``(text, count, values)``: ``sql`` with each string literal longer than :data:`BIG_LITERAL` (not a ``B''``,
    ``X''`` or ``U&''`` one) replaced by a parameter numbered after the client's own, the number of the client's
    last parameter and the literals' values in order; ``(sql, 0, [])`` when there is none."""
    plain, count, lifted = 0, 0, []
    for kind, at, end in _with_end(sql):
        count = max([count, *(int(number) for number in _PARAMETER.findall(sql, plain, at))])
        if kind == STRING and end - at > BIG_LITERAL and not (at and (_word_char(sql[at - 1]) or sql[at - 1] == "&")):
            value = _string_value(sql, at, end)
            if value is not None:
                lifted.append((at, end, value))
        plain = end
    if not lifted:
        return sql, 0, []
    parts, last = [], 0
    for number, (at, end, _value) in enumerate(lifted, count + 1):
        parts += [sql[last:at], f"${number}"]
        last = end
    return "".join([*parts, sql[last:]]), count, [value for _at, _end, value in lifted]


# ---- the complexity guard: what sqlglot could only fail on, refused before it parses ------------------------------
#: Parentheses nested deeper than this are refused (sqlglot's recursive parser fails at about 45 levels).
MAX_NESTING = 64
#: A run of more operators than this in one expression (``1+1+…``, a tree as deep as the run) is refused.
MAX_OPERATOR_RUN = 256
#: Statements of more tokens than this are refused (sqlglot keeps ~600 bytes a token and reads ~15,000 a second).
MAX_TOKENS = 100_000
_TOKEN = re.compile(r"(?P<open>\()|(?P<close>\))|(?P<word>[\w$]+)|(?P<operator>[-+*/%^<>=~!@#&|]+)|\S")
#: Words that end an operator run: the operands around them are separate subtrees (AND/OR chains are flat).
_RUN_ENDS = frozenset({"and", "or", "case", "when", "then", "else", "end", "select", "from", "where", "group",
                       "having", "order", "by", "limit", "offset", "on", "join", "union", "intersect", "except",
                       "as", "in", "values", "with", "returning", "set"})
LIMITS_HINT = (f"sqlspapi's SQL translator handles at most {MAX_NESTING} nested parentheses, {MAX_OPERATOR_RUN} "
                f"operators in a row and {MAX_TOKENS:,} tokens per statement: simplify the statement or split it.")


def check_complexity(sql: str) -> None:
    """Raise ``PgError`` 54001 (statement too complex) when the statement is beyond the translator's limits: a scan
    of the plain SQL between :func:`pieces` that stops as soon as a limit is passed (a 1 MB ``1+1+…`` at once)."""
    depth, run, outer_runs, tokens, plain = 0, 0, [], 0, 0
    for kind, at, end in _with_end(sql):
        for token in _TOKEN.finditer(sql, plain, at):
            tokens += 1
            if token.lastgroup == "open":
                outer_runs.append(run)
                depth, run = depth + 1, 0
                if depth > MAX_NESTING:
                    raise too_complex(f"parentheses nested more than {MAX_NESTING} deep", LIMITS_HINT)
            elif token.lastgroup == "close":
                depth, run = max(depth - 1, 0), outer_runs.pop() if outer_runs else 0
            elif token.lastgroup == "operator" or token.lastgroup == "word" and token.group().lower() == "not":
                run += 1
                if run > MAX_OPERATOR_RUN:
                    raise too_complex(f"more than {MAX_OPERATOR_RUN} operators in a row", LIMITS_HINT)
            elif token.group() == "," or token.lastgroup == "word" and token.group().lower() in _RUN_ENDS:
                run = 0
            if tokens > MAX_TOKENS:
                raise too_complex(f"more than {MAX_TOKENS:,} tokens", LIMITS_HINT)
        tokens += kind in (STRING, IDENTIFIER)
        plain = end


__all__ = ["pieces", "split_statements", "first_words", "leading_code", "BIG_LITERAL", "lift_literals",
           "MAX_NESTING", "MAX_OPERATOR_RUN", "MAX_TOKENS", "LIMITS_HINT", "WORD_CHARS", "check_complexity"]
