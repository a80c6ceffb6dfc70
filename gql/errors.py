"""The API's errors: what a client did wrong, said plainly. Anything else is masked.

`ApiError` is a `GraphQLError` with `extensions.code`, so clients can branch on the code and
humans can read the message. `should_mask` is given to Strawberry's `MaskErrors`: validation
errors and `ApiError`s pass through; every other exception (a bug, a locked database) reaches
the client as "Unexpected error." and is logged server-side in full.
"""

from __future__ import annotations

from graphql import GraphQLError


class ApiError(GraphQLError):
    """An error the client can act on."""

    code = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class BadArgument(ApiError):
    """An argument has a value the API cannot use (page size, cursor, id, search syntax)."""

    code = "BAD_USER_INPUT"


def should_mask(error: GraphQLError) -> bool:
    """Mask everything except what GraphQL itself raised about the request and our own errors.

    Validation errors have no original error; a variable that does not coerce (`$n: Int!`
    given null) carries graphql-core's own `GraphQLError`; `ApiError` is ours. Any other
    exception is a fault of ours.
    """
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)
