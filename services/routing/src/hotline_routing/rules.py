"""Which kind of MSDHS agency a case needs: ordered rules read from a versioned TOML file, validated at load."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from hotline_common.events import AgencyType, Category, TargetGroup
from hotline_common.events.registry import RESIDENTIAL_AGENCIES
from hotline_gazetteer import gazetteer

DEFAULT_RULES = "data/agency_rules.toml"
RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PROVINCE_CODE = re.compile(r"^\d{2}$")
RULE_KEYS = ("id", "description", "categories", "target_groups", "provinces", "agency_type", "needs_place")
CONDITION_KEYS = ("categories", "target_groups", "provinces")
TOP_KEYS = ("version", "rule")
# Everything unmatched goes to the provincial office: it leads the province's One Home team and can reach every unit.
CATCH_ALL_AGENCY = AgencyType.provincial_office

E = TypeVar("E", bound=StrEnum)
Report = Callable[[str, str], None]  # (field, message)


class RulesError(ValueError):
    """A rules file that cannot be used; `errors` holds every problem found, one line each."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True, slots=True)
class AgencyRule:
    """One row of the rules file; a condition of None matches anything."""

    id: str
    position: int  # 1-based, as an admin counts the [[rule]] blocks
    agency_type: AgencyType
    categories: frozenset[Category] | None = None
    target_groups: frozenset[TargetGroup] | None = None
    provinces: frozenset[str] | None = None
    # The referral usually means taking the person in: prefer a residential agency with free places.
    needs_place: bool = False
    description: str = ""

    @property
    def is_catch_all(self) -> bool:
        return self.categories is None and self.target_groups is None and self.provinces is None

    def matches(self, category: Category, target_group: TargetGroup, province_code: str) -> bool:
        return ((self.categories is None or category in self.categories)
                and (self.target_groups is None or target_group in self.target_groups)
                and (self.provinces is None or province_code in self.provinces))

    def label(self) -> str:
        return f"rule #{self.position} '{self.id}'"


class AgencyRules:
    """A validated, ordered rule set; the first matching rule wins."""

    def __init__(self, version: str, rules: Iterable[AgencyRule], source: str = "<rules>") -> None:
        self.version = version
        self.rules = tuple(rules)
        self.source = source
        # Per (category, target group): the rules that can match, in order, cut after the first that matches every
        # province — so a lookup tests a handful of province sets at most.
        candidates: dict[tuple[Category, TargetGroup], tuple[AgencyRule, ...]] = {}
        for category in Category:
            for target_group in TargetGroup:
                found: list[AgencyRule] = []
                for rule in self.rules:
                    if ((rule.categories is None or category in rule.categories)
                            and (rule.target_groups is None or target_group in rule.target_groups)):
                        found.append(rule)
                        if rule.provinces is None:
                            break
                candidates[category, target_group] = tuple(found)
        self._candidates = candidates

    def rule_for(self, category: Category, target_group: TargetGroup, province_code: str) -> AgencyRule:
        for rule in self._candidates[category, target_group]:
            if rule.provinces is None or province_code in rule.provinces:
                return rule
        raise LookupError(f"{self.source}: no rule matches {category}/{target_group}/{province_code} (no catch-all)")

    def agency_type_for(self, category: Category, target_group: TargetGroup,
                        province_code: str) -> tuple[AgencyType, str]:
        """The agency type a case needs, and the id of the rule that said so."""
        rule = self.rule_for(category, target_group, province_code)
        return rule.agency_type, rule.id


def load_rules(path: Path | None = None) -> AgencyRules:
    """The rules in `path`, or the packaged default; raises RulesError listing every problem."""
    if path is None:
        source = f"hotline_routing/{DEFAULT_RULES}"
        text = resources.files("hotline_routing").joinpath(DEFAULT_RULES).read_text("utf-8")
    else:
        source = str(path)
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RulesError([f"{source}: cannot read the rules file: {exc}"]) from None
    return parse_rules(text, source)


def parse_rules(text: str, source: str = "<rules>") -> AgencyRules:
    """Validate a rules document (TOML text); `source` names it in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # the message carries "(at line N, column M)"
        raise RulesError([f"{source}: TOML syntax error: {exc}"]) from None
    errors: list[str] = []
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip():
        errors.append(f"{source}: version: required, a non-empty string such as \"2025.1\"")
    errors.extend(f"{source}: unknown top-level key {k!r}{_did_you_mean(k, TOP_KEYS)}" for k in doc
                  if k not in TOP_KEYS)
    raw_rules = doc.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        errors.append(f"{source}: no rules: add [[rule]] blocks, the last one a catch-all")
        raise RulesError(errors)
    checker = _RuleChecker(source, set(gazetteer().provinces()))
    rules = [checker.rule(position, raw) for position, raw in enumerate(raw_rules, start=1)]
    errors.extend(checker.errors)
    errors.extend(_order_errors(source, raw_rules, rules))
    if errors:
        raise RulesError(errors)
    return AgencyRules(str(version), [r for r in rules if r is not None], source)


class _RuleChecker:
    """Builds rules one by one, collecting every problem rather than stopping at the first."""

    def __init__(self, source: str, provinces: set[str]) -> None:
        self.source = source
        self.provinces = provinces
        self.errors: list[str] = []
        self.seen_ids: dict[str, int] = {}

    def rule(self, position: int, raw: object) -> AgencyRule | None:
        if not isinstance(raw, dict):
            self.errors.append(f"{self.source}: rule #{position}: must be a [[rule]] table")
            return None
        rule_id = raw.get("id")
        where = (f"{self.source}: rule #{position} {rule_id!r}" if isinstance(rule_id, str) and rule_id
                 else f"{self.source}: rule #{position} (no id)")
        before = len(self.errors)

        def error(field: str, message: str) -> None:
            self.errors.append(f"{where}: {field}: {message}")

        for key in raw:
            if key not in RULE_KEYS:
                error(key, f"unknown key{_did_you_mean(key, RULE_KEYS)}")
        if not isinstance(rule_id, str) or not rule_id:
            error("id", "required, kebab-case such as 'violence-against-child'")
        elif not RULE_ID.match(rule_id):
            error("id", f"{rule_id!r} is not kebab-case (lower-case letters, digits and single hyphens)")
        elif rule_id in self.seen_ids:
            error("id", f"duplicate: rule #{self.seen_ids[rule_id]} already uses {rule_id!r}")
        else:
            self.seen_ids[rule_id] = position
        description = raw.get("description", "")
        if not isinstance(description, str):
            error("description", "must be a string")
        categories = self._members(raw, "categories", Category, "category", error)
        target_groups = self._members(raw, "target_groups", TargetGroup, "target group", error)
        provinces = self._provinces(raw, error)
        agency_type = self._agency_type(raw, error)
        needs_place = raw.get("needs_place", False)
        if not isinstance(needs_place, bool):
            error("needs_place", "must be true or false")
        elif needs_place and agency_type is not None and agency_type not in RESIDENTIAL_AGENCIES:
            residential = ", ".join(sorted(RESIDENTIAL_AGENCIES))
            error("needs_place", f"only residential agencies have places ({residential}), not {agency_type}")
        if len(self.errors) > before or agency_type is None:
            return None
        return AgencyRule(id=str(rule_id), position=position, agency_type=agency_type, categories=categories,
                          target_groups=target_groups, provinces=provinces, needs_place=bool(needs_place),
                          description=str(description))

    @staticmethod
    def _members(raw: Mapping[str, Any], field: str, enum: type[E], noun: str, error: Report) -> frozenset[E] | None:
        values = _string_list(raw, field, error)
        if values is None:
            return None
        known = [e.value for e in enum]
        found: set[E] = set()
        for value in values:
            if value in known:
                found.add(enum(value))
            else:
                error(field, f"unknown {noun} {value!r}{_did_you_mean(value, known)}")
        return frozenset(found)

    def _provinces(self, raw: Mapping[str, Any], error: Report) -> frozenset[str] | None:
        values = _string_list(raw, "provinces", error)
        if values is None:
            return None
        for value in values:
            if not PROVINCE_CODE.match(value):
                error("provinces", f"{value!r} is not a 2-digit province code such as \"57\"")
            elif value not in self.provinces:
                error("provinces", f"{value!r} is not a Thai province code")
        return frozenset(values)

    @staticmethod
    def _agency_type(raw: Mapping[str, Any], error: Report) -> AgencyType | None:
        value = raw.get("agency_type")
        known = [t.value for t in AgencyType]
        if value is None:
            error("agency_type", f"required, one of {', '.join(known)}")
        elif not isinstance(value, str) or value not in known:
            error("agency_type", f"unknown agency type {value!r}{_did_you_mean(str(value), known)}")
        else:
            return AgencyType(value)
        return None


def _string_list(raw: Mapping[str, Any], field: str, error: Report) -> list[str] | None:
    """A condition's values: None when the key is absent (= any); problems reported through `error`."""
    if field not in raw:
        return None
    values = raw[field]
    if not isinstance(values, list):
        error(field, "must be a list such as [\"a\", \"b\"] (leave the key out to match any)")
        return []
    if not values:
        error(field, "empty list: it would match nothing (leave the key out to match any)")
        return []
    found: list[str] = []
    for value in values:
        if isinstance(value, str):
            if value in found:
                error(field, f"{value!r} is listed twice")
            else:
                found.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            error(field, f"{value} must be a quoted string, such as \"{value:02d}\"")
        else:
            error(field, f"{value!r} must be a quoted string")
    return found


def _order_errors(source: str, raw_rules: list[Any], rules: list[AgencyRule | None]) -> list[str]:
    """The catch-all comes last, and every rule can match some case the rules before it do not take."""
    errors: list[str] = []

    def label(position: int) -> str:
        raw = raw_rules[position - 1]
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        return f"rule #{position} {rule_id!r}" if isinstance(rule_id, str) and rule_id else f"rule #{position}"

    # A rule with an unknown key (a misspelt condition?) is not taken for a catch-all: that error is reported already.
    catch_all = next((i for i, raw in enumerate(raw_rules, start=1)
                      if isinstance(raw, dict) and all(k in RULE_KEYS and k not in CONDITION_KEYS for k in raw)), None)
    if catch_all is None:
        errors.append(f"{source}: {label(len(raw_rules))}: the last rule must be a catch-all (no categories, "
                      f"target_groups or provinces) sending the rest to {CATCH_ALL_AGENCY}")
    else:
        errors.extend(f"{source}: {label(p)}: unreachable: it comes after the catch-all {label(catch_all)}"
                      for p in range(catch_all + 1, len(raw_rules) + 1))
        last = rules[catch_all - 1]
        if last is not None and last.agency_type is not CATCH_ALL_AGENCY:
            errors.append(f"{source}: {label(catch_all)}: agency_type: the catch-all must send the rest to "
                          f"{CATCH_ALL_AGENCY}, not {last.agency_type}")
    # Shadowing: a rule none of whose (category, target group, province) cases are left by the rules above it.
    every_province = frozenset(gazetteer().provinces())
    covered: dict[tuple[Category, TargetGroup], set[str]] = {}
    covered_by: dict[tuple[Category, TargetGroup], list[int]] = {}
    for rule in rules:
        if rule is None or (catch_all is not None and rule.position > catch_all):
            continue
        provinces = rule.provinces if rule.provinces is not None else every_province
        categories = rule.categories if rule.categories is not None else frozenset(Category)
        target_groups = rule.target_groups if rule.target_groups is not None else frozenset(TargetGroup)
        keys = [(c, t) for c in categories for t in target_groups]
        if not any(not provinces <= covered.get(key, set()) for key in keys):
            earlier = sorted({p for key in keys for p in covered_by.get(key, [])})
            errors.append(f"{source}: {rule.label()}: unreachable: every case it matches is taken by "
                          + ", ".join(label(p) for p in earlier))
        for key in keys:
            covered.setdefault(key, set()).update(provinces)
            covered_by.setdefault(key, []).append(rule.position)
    return errors


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    options = list(known)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(options)})"
