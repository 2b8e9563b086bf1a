"""Page chains of the list route: the next tokens one chain followed, so that a looping API is an error.

A chain is a first call and the next tokens that follow it. A token followed twice (the API answers a page with a
token it gave before: following it would repeat rows, and the statement cache would answer it forever) or a chain
longer than :data:`MAX_PAGES` raises :class:`~sqlspapi.errors.SPAPIError` with code :data:`PAGING_LOOP`, naming the
operation.
"""

from __future__ import annotations

import hashlib

from sqlspapi.errors import SPAPIError

#: Pages one chain (a first call and the next tokens that follow it) may have at most: far beyond any real answer
#: (Orders' searchOrders gives 100 orders a page: ten million orders), a bound on a paging loop that never ends.
MAX_PAGES = 100_000
#: ``SPAPIError.code`` of a broken page chain (a next token repeated, or too many pages).
PAGING_LOOP = "PagingLoop"


class Chain:
    """The next tokens one page chain followed: a repeated token, or a chain past :data:`MAX_PAGES`, is an error."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.seen: set[bytes] = set()

    def follow(self, token: str) -> None:
        """Record that ``token`` is followed next; raise when it was followed before or the chain is too long."""
        digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        pages = len(self.seen) + 1
        if digest in self.seen:
            raise SPAPIError(
                f"{self.operation} answered page {pages} with a next token it had already given in this scan: its "
                "paging is looping, and following it would repeat rows. This is usually transient: run the query "
                "again.", code=PAGING_LOOP, operation=self.operation)
        if pages >= MAX_PAGES:
            raise SPAPIError(
                f"{self.operation} still had a next page after {MAX_PAGES:,} pages; the scan stopped rather than "
                "page on without end. Narrow the query (a shorter date range, fewer marketplaces).",
                code=PAGING_LOOP, operation=self.operation)
        self.seen.add(digest)


__all__ = ["MAX_PAGES", "PAGING_LOOP", "Chain"]
