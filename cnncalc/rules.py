"""Rule ids: a short stable name for what is wrong, for tools that group problems (SARIF, JSON).

A problem created with a `rule` (the budgets: `budget-params`, ...) keeps it; the others are named by the words
of their message, which the tests pin. The first matching entry wins; anything else is `invalid-spec`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .problems import Problem


class Rule(NamedTuple):
    """A rule id, a pattern of the messages it names, and the description tools show for it."""

    id: str
    pattern: str
    description: str


RULES = (
    Rule("unreadable-file", r"^(cannot read|is a directory)",
         "The file cannot be read."),
    Rule("too-large", r"cnncalc refuses|cnncalc's limit|cnncalc stops|more than [\d,]+ (layers|values)|too large",
         "The spec passes one of cnncalc's size limits."),
    Rule("invalid-yaml", r"^invalid YAML|not valid UTF|encoding",
         "The file is not valid YAML text."),
    Rule("yaml-tag", r"YAML tag",
         "A YAML tag that specs do not allow."),
    Rule("non-integer-size", r"is not an integer",
         "A stride that does not fit: the output size is not a whole number."),
    Rule("empty-output", r"output is empty|larger than the padded input|kernel .* larger",
         "A layer's output is empty."),
    Rule("invalid-expression", r"not an expression|use // |refers to a block parameter|\$\w+.*expression",
         "A block's $expression that cnncalc cannot evaluate."),
    Rule("unknown-key", r"unknown key|has no parameter|is not a parameter of|takes 'params'|takes 'branches'|takes no parameters",
         "A key the spec format does not have."),
    Rule("unknown-kind", r"unknown layer kind",
         "A layer kind cnncalc does not know."),
    Rule("duplicate-key", r"duplicate key|named twice|two 'from'|two kinds",
         "A key written twice."),
    Rule("duplicate-name", r"is already used",
         "Two layers with one name."),
    Rule("unknown-source", r"no layer or group named|is defined later",
         "`from:` names no layer above."),
    Rule("missing-key", r"needs '|needs 'layers|needs 'input|is empty|has no kind",
         "Something required is missing."),
    Rule("shape-mismatch", r"same shape|same spatial size|needs a volume|must divide|spatial dim",
         "Inputs that do not fit."),
    Rule("unused-output", r"is never used",
         "A layer's output that nothing reads."),
    Rule("floored-size", r"floor",
         "A non-integer size floored (--floor, round: floor)."),
    Rule("invalid-value", r"must be|takes |at least|refuses",
         "A value of the wrong type or range."),
)
DEFAULT_RULE = Rule("invalid-spec", "", "Any other problem with the spec.")
_COMPILED = tuple((rule.id, re.compile(rule.pattern)) for rule in RULES)


def rule_id(problem: Problem) -> str:
    """The problem's own rule, else the first rule whose pattern its message matches, else 'invalid-spec'."""
    if problem.rule:
        return problem.rule
    message = problem.message
    for rule, pattern in _COMPILED:
        if pattern.search(message):
            return rule
    return DEFAULT_RULE.id


def rule_description(rule: str) -> str:
    from .budget import KEYS, RULE_PREFIX

    for known in RULES:
        if known.id == rule:
            return known.description
    for key in KEYS:
        if rule == RULE_PREFIX + key:
            return ("The receptive field is below the spec's budget." if key == "rf"
                    else f"The {key} exceed the spec's budget." if key != "memory"
                    else "The memory exceeds the spec's budget.")
    return DEFAULT_RULE.description
