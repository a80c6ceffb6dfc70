"""Limits on hostile queries: depth, aliases, tokens, cost and introspection.

Every check runs once per distinct query document. Depth, aliases and cost are one graphql-core
validation rule; its class is built once per schema, so the tuple of rules is the same object
on every request and `ValidationCache` (keyed by document and rules) answers repeat queries
without measuring them again. The token limit is graphql-core's own `max_tokens` parse option:
the parser stops at the limit instead of building a huge AST, and `ParserCache` caches the
result. Each error names the limit, its value and the setting that changes it, with
`extensions.code = "QUERY_TOO_COMPLEX"` (or `"INTROSPECTION_DISABLED"`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    ValidationContext,
    ValidationRule,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from graphql.validation.rules.max_introspection_depth_rule import MaxIntrospectionDepthRule
from strawberry.extensions import AddValidationRules, SchemaExtension

from newsgraph.gql.cost import PageSizes, measure

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
_TOKENS_MESSAGE = "Document contains more than"


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The limits a query must stay within; 0 turns a limit off.

    `env_prefix` makes messages name the variable that changes a limit
    (`NEWSGRAPH_MAX_QUERY_DEPTH`); the settings live in `newsgraph.config`, which gql must not
    import, so the composition passes the prefix in.
    """

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_cost: int = 50_000
    introspection: bool = True
    env_prefix: str = "NEWSGRAPH_"

    def setting(self, name: str) -> str:
        return self.env_prefix + name.upper()


def limit_message(what: str, value: int, limit: int, setting: str, extra: str = "") -> str:
    """`query depth 14 exceeds the limit of 10 (NEWSGRAPH_MAX_QUERY_DEPTH)`."""
    return f"{what} {value:,} exceeds the limit of {limit:,} ({setting}){extra}"


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": TOO_COMPLEX})


def size_rule(limits: QueryLimits, pages: PageSizes) -> type[ASTValidationRule]:
    """One validation rule measuring every operation of the document against `limits`."""

    class QuerySizeRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            _check_document(context, limits, pages)

    return QuerySizeRule


def _check_document(context: ValidationContext, limits: QueryLimits, pages: PageSizes) -> None:
    document: DocumentNode = context.document
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        if context.schema.get_root_type(operation.operation) is None:
            continue  # a mutation on a schema without mutations: other rules report it
        size = measure(context.schema, operation, fragments, pages)
        checks = (
            ("query depth", size.depth, limits.max_depth, "max_query_depth", ""),
            ("alias count", size.aliases, limits.max_aliases, "max_aliases", ""),
            ("query cost", size.cost, limits.max_cost, "max_query_cost",
             f"; lower first/last/limit (a page size from a variable counts as {pages.maximum})"),
        )  # fmt: skip
        for what, value, limit, name, extra in checks:
            if limit and value > limit:
                message = limit_message(what, value, limit, limits.setting(name), extra)
                context.report_error(too_complex(message))


class TokenLimit(SchemaExtension):
    """graphql-core's `max_tokens` parse limit, with a message that names our setting."""

    def __init__(self, limits: QueryLimits) -> None:
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        if self.limits.max_tokens:
            self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        # `ParserCache` parses inside its own hook, so the syntax error escapes the operation
        # (and reaches the result as this same object); uncached, it is recorded instead.
        try:
            yield
        except GraphQLError as raised:
            self._reword(raised)
            raise
        for error in self.execution_context.pre_execution_errors or ():
            self._reword(error)

    def _reword(self, error: GraphQLError) -> None:
        if _TOKENS_MESSAGE in error.message:
            error.message = (
                f"query document has more than {self.limits.max_tokens:,} tokens, the limit "
                f"({self.limits.setting('max_query_tokens')}); parsing stopped there"
            )
            error.extensions = {"code": TOO_COMPLEX}


def introspection_disabled_rule(setting: str) -> type[ASTValidationRule]:
    """graphql-core's rule, with a message that says how to turn introspection back on."""

    class IntrospectionDisabledRule(NoSchemaIntrospectionCustomRule):
        def report_error(self, error: GraphQLError) -> None:
            super().report_error(
                GraphQLError(
                    f"introspection is disabled on this server ({setting}); {error.message}",
                    error.nodes,
                    extensions={"code": "INTROSPECTION_DISABLED"},
                )
            )

    return IntrospectionDisabledRule


def limit_extensions(limits: QueryLimits, pages: PageSizes) -> list[Callable[[], Any]]:
    """Extension factories for the schema; the rule classes are built here, once."""
    rules: list[type[ASTValidationRule]] = [size_rule(limits, pages), MaxIntrospectionDepthRule]
    if not limits.introspection:
        rules.append(introspection_disabled_rule(limits.setting("introspection")))
    return [partial(TokenLimit, limits), partial(AddValidationRules, rules)]
