"""Reading the templates in infra/ and resolving the few intrinsic functions their values use.

The resolver is deliberately small and strict: Ref (parameters, AWS::NoValue, pseudo
parameters), Fn::If over Fn::Equals/Fn::Not/Fn::And conditions, and Fn::Sub with ``${Name}``.
Any other intrinsic raises, so a template change the tests cannot follow fails loudly
instead of being compared half-resolved.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

__all__ = [
    "ENVIRONMENT_PREFIXES",
    "INFRA",
    "SEND_EVENTS",
    "STATUS_UPDATE",
    "SWEEP_REFS",
    "TABLES",
    "condition",
    "load_template",
    "resolve",
]

INFRA = Path(__file__).resolve().parents[2] / "infra"
TABLES = INFRA / "elm-tables.yaml"
STATUS_UPDATE = INFRA / "elm-status-update.yaml"
SEND_EVENTS = INFRA / "elm-send-events.yaml"

# The settings contract (docs/behaviour.md): the environment selects the rule-name prefix.
ENVIRONMENT_PREFIXES = {"DEV": "DEV-", "QA": "QA-", "PROD": ""}

# What a Ref to the sweep's queue and ledger returns on a deployed PROD stack (the queue's
# URL, the table's name): pass them with the parameters to resolve the sweep functions'
# environment.
SWEEP_REFS = {
    "SweepQueue": "https://sqs.us-east-1.amazonaws.com/123456789012/elm-PROD-sweep.fifo",
    "SweepRunsTable": "elm-PROD-sweep-runs",
}

_NO_VALUE = object()
_PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
}
_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")


@functools.cache
def load_template(path: Path) -> dict[str, Any]:
    """The template as plain data, short-form tags (``!If``) turned into long form.

    Cached (parsing is the slow part of these tests): callers must not modify the result.
    """
    return _plain(cfn_yaml.load(str(path)))


def resolve(
    template: dict[str, Any],
    value: Any,
    parameters: dict[str, str],
    pseudo: dict[str, str] | None = None,
) -> Any:
    """``value`` (taken from ``template``) with its intrinsics evaluated for ``parameters``.

    Parameters not given take their template defaults; a key whose value resolves to
    AWS::NoValue is dropped, as CloudFormation drops it. ``pseudo`` overrides pseudo
    parameters (``AWS::AccountId``, ``AWS::Region``): where the stack is deployed.
    """
    result = _resolver(template, parameters, pseudo).value(value)
    if result is _NO_VALUE:
        raise ValueError("the value resolves to AWS::NoValue")
    return result


def condition(
    template: dict[str, Any],
    name: str,
    parameters: dict[str, str],
    pseudo: dict[str, str] | None = None,
) -> bool:
    """Whether the template's condition ``name`` holds for a stack deployed with these."""
    return _resolver(template, parameters, pseudo).condition(name)


def _resolver(
    template: dict[str, Any], parameters: dict[str, str], pseudo: dict[str, str] | None
) -> _Resolver:
    params = {
        name: str(spec["Default"])
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }
    params.update(parameters)
    return _Resolver(template, params, {**_PSEUDO, **(pseudo or {})})


class _Resolver:
    def __init__(
        self, template: dict[str, Any], params: dict[str, str], pseudo: dict[str, str]
    ) -> None:
        self._conditions: dict[str, Any] = template.get("Conditions", {})
        self._params = params
        self._pseudo = pseudo

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::If":
                condition, if_true, if_false = arg
                return self.value(if_true if self.condition(condition) else if_false)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key.startswith("Fn::") or key == "Condition":
                raise ValueError(f"intrinsic {key} is not supported by the test resolver")
        resolved = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._params:
            return self._params[name]
        raise ValueError(f"Ref {name} is neither a parameter with a value nor a pseudo parameter")

    def _sub(self, arg: Any) -> str:
        if not isinstance(arg, str):
            raise ValueError("only the one-argument form of Fn::Sub is supported")
        return _SUB_NAME.sub(lambda m: str(self._ref(m.group(1))), arg)

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self._conditions[name]))

    def _evaluate(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Fn::Equals":
                left, right = (self._evaluate(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._evaluate(arg[0])
            if key == "Fn::And":
                return all(self._evaluate(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.value(node)


def _plain(node: Any) -> Any:
    """cfn-lint's decoder returns node subclasses; tests compare plain dicts, lists and str."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node
