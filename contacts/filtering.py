"""The one filter model: conditions in groups, groups combined.

A :class:`FilterTree` is a list of :class:`FilterGroup`; each group holds conditions
(:class:`contacts.filters.Filter`) that must all hold, or any one of them ("any"), and the
groups themselves combine with all or any. The contact list, its count, saved views, the CSV
export, bulk actions on every matching contact and the API's Get Users all query through
:meth:`FilterTree.q`.

In the URL (readable, and a superset of the old ``f=`` filters)::

    f=city:eq:Pune           a condition of the first group (group 0)
    g1.f=score:gt:10         a condition of group 1 (g2.f, g3.f ... likewise)
    g0=any, g1=any           that group matches when any of its conditions holds
                             (``g0.f`` is read as ``f``)
    match=any                the groups combine with OR (default: all must hold)

So every old URL (only ``f=``) is one "all" group: the same AND of conditions as before.
Empty groups are dropped and the rest renumbered from 0, so each state has one canonical URL.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.db.models import Q
from django.http import QueryDict

from contacts.fields import FieldRegistry
from contacts.filters import Filter, FilterError, parse_filter

ANY = "any"
ALL = "all"
MATCH_PARAM = "match"
MAX_GROUPS = 10
# More conditions make a query too deep for the database to plan; nobody reads one so long.
MAX_FILTERS = 50
_GROUP_PARAM_RE = re.compile(r"g(\d{1,2})(\.f)?")


def condition_param(group: int) -> str:
    """The URL parameter holding group ``group``'s conditions: ``f``, ``g1.f``, ``g2.f``..."""
    return "f" if group == 0 else f"g{group}.f"


def is_filter_param(name: str) -> bool:
    return name in ("f", MATCH_PARAM) or _GROUP_PARAM_RE.fullmatch(name) is not None


def _combine(qs: Iterable[Q], any_of: bool) -> Q:
    return functools.reduce(operator.or_ if any_of else operator.and_, qs, Q())


@dataclass(frozen=True, slots=True)
class FilterGroup:
    conditions: tuple[Filter, ...] = ()
    any: bool = False

    @property
    def mode(self) -> str:
        return ANY if self.any else ALL

    def q(self) -> Q:
        return _combine((c.q() for c in self.conditions), self.any)


@dataclass(frozen=True, slots=True)
class FilterTree:
    groups: tuple[FilterGroup, ...] = ()
    any: bool = False

    @classmethod
    def of(cls, filters: Iterable[Filter], *, any: bool = False) -> FilterTree:
        """One group of ``filters``: all must hold, or any one with ``any``."""
        return cls((FilterGroup(tuple(filters), any=any),)).canonical()

    @property
    def mode(self) -> str:
        return ANY if self.any else ALL

    @property
    def conditions(self) -> list[Filter]:
        return [c for g in self.groups for c in g.conditions]

    def __len__(self) -> int:
        """How many conditions (an empty tree is false)."""
        return sum(len(g.conditions) for g in self.groups)

    def q(self) -> Q:
        """The whole tree as one condition (an empty tree matches every contact)."""
        return _combine((g.q() for g in self.groups if g.conditions), self.any)

    def alternatives(self) -> list[Q | Filter]:
        """Parts of which a contact must match at least one: the conditions of a lone "any"
        group, or each group of trees whose groups combine with any (a lone condition as
        itself). One part for anything else."""
        if len(self.groups) == 1 and self.groups[0].any:
            return list(self.groups[0].conditions)
        if self.any:
            return [g.conditions[0] if len(g.conditions) == 1 else g.q() for g in self.groups]
        conditions = self.conditions
        return [conditions[0]] if len(conditions) == 1 else [self.q()]

    def canonical(self) -> FilterTree:
        """Without empty groups; a lone group's way of combining groups does not matter."""
        groups = tuple(g for g in self.groups if g.conditions)
        return FilterTree(groups, any=self.any and len(groups) > 1)

    # --- Changes (each returns a new tree) ---------------------------------------------------
    def with_condition(self, condition: Filter, group: int) -> FilterTree:
        """``condition`` added to group ``group``; an index past the last opens a new group."""
        groups = list(self.groups)
        if group >= len(groups):
            groups.append(FilterGroup((condition,)))
        else:
            target = groups[group]
            groups[group] = replace(target, conditions=(*target.conditions, condition))
        return replace(self, groups=tuple(groups)).canonical()

    def without_condition(self, group: int, index: int) -> FilterTree:
        groups = list(self.groups)
        kept = tuple(c for i, c in enumerate(groups[group].conditions) if i != index)
        groups[group] = replace(groups[group], conditions=kept)
        return replace(self, groups=tuple(groups)).canonical()

    def with_group_switched(self, group: int) -> FilterTree:
        groups = list(self.groups)
        groups[group] = replace(groups[group], any=not groups[group].any)
        return replace(self, groups=tuple(groups))

    def with_match_switched(self) -> FilterTree:
        return replace(self, any=not self.any)

    # --- The URL -----------------------------------------------------------------------------
    def params(self) -> list[tuple[str, str]]:
        """The canonical URL parameters (see the module's docstring)."""
        tree = self.canonical()
        pairs: list[tuple[str, str]] = []
        for number, group in enumerate(tree.groups):
            if group.any:
                pairs.append((f"g{number}", ANY))
            pairs.extend((condition_param(number), c.param) for c in group.conditions)
        if tree.any:
            pairs.append((MATCH_PARAM, ANY))
        return pairs

    def saved(self) -> dict[str, list[str]]:
        """The parameters as a saved view stores them (``{"f": [...], "g1.f": [...]}``)."""
        stored: dict[str, list[str]] = {}
        for name, value in self.params():
            stored.setdefault(name, []).append(value)
        return stored


def parse_filter_tree(params: QueryDict, registry: FieldRegistry) -> tuple[FilterTree, list[str]]:
    """The tree from URL parameters (a ``QueryDict``'s lists), and a message per bad part.

    A condition that does not parse is left out with its message; the rest still apply.
    """
    raw_by_group: dict[int, list[str]] = {}
    any_groups: set[int] = set()
    for name, values in params.lists():
        number = _group_number(name)
        if number is None:
            continue
        if name != "f" and not name.endswith(".f"):  # "gN": how group N combines
            if any(v.strip().lower() == ANY for v in values):
                any_groups.add(number)
            continue
        raw_by_group.setdefault(number, []).extend(v for v in values if v.strip())
    numbers = sorted(raw_by_group)
    errors = [f"Filter group {n + 1}: at most {MAX_GROUPS} groups" for n in numbers[MAX_GROUPS:]]
    numbers = numbers[:MAX_GROUPS]
    sent = sum(len(raw_by_group[n]) for n in numbers)
    if sent > MAX_FILTERS:
        errors.append(
            f"Filters: at most {MAX_FILTERS} conditions; the first {MAX_FILTERS} of "
            f"{sent:,} are applied"
        )
    room = MAX_FILTERS
    groups: list[FilterGroup] = []
    for number in numbers:
        conditions = []
        for raw in raw_by_group[number][:room]:
            try:
                conditions.append(parse_filter(raw, registry))
            except FilterError as exc:
                errors.append(str(exc))
        room -= min(room, len(raw_by_group[number]))
        groups.append(FilterGroup(tuple(conditions), any=number in any_groups))
    match_any = any(v.strip().lower() == ANY for v in params.getlist(MATCH_PARAM))
    return FilterTree(tuple(groups), any=match_any).canonical(), errors


def _group_number(name: str) -> int | None:
    if name == "f":
        return 0
    found = _GROUP_PARAM_RE.fullmatch(name)
    if found is None:
        return None
    return int(found.group(1))
