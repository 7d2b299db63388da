"""PolicyEngine: Subject x host x method x time (x open teacher sessions) -> Decision.

Pure: no I/O and no mitmproxy. The proxy calls `decide()` for every request to a
catalog platform, so the work is arranged at load time:

- rules are compiled into a dict keyed by platform id, with category and platform
  matches expanded, each list in policy order: a request walks only the few rules that
  can apply to its platform, never the whole rule list;
- a subject's cohorts are computed once and cached (subjects are frozen and hashable;
  the cache is bounded and simply cleared when full);
- decisions that do not depend on the method or a session are built once and reused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from agent.policy.catalog import Platform, normalize_host
from agent.policy.model import READ_METHODS, UNKNOWN_USER, Decision, Policy, Rule, Subject
from agent.policy.schedules import Schedule
from agent.policy.sessions import TeacherSession

DEFAULT_RULE = "default"
# Hosts outside the catalog are allowed: CrossingGuard enforces the social media
# procedures, it is not a general web filter (the district's DNS/content filter is).
# This is also what keeps ordinary sites on the cheap pass-through path.
OUTSIDE_CATALOG = Decision("allow", "allow", None, None, DEFAULT_RULE, "",
                           "This site is not on the district's social media list.", None)
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    cohorts: tuple[str, ...] | None
    hosts: frozenset[str]                  # domains, matched on label boundaries:
    host_suffixes: tuple[str, ...]         # the host itself, or ".domain" at its end
    schedule: Schedule | None
    teacher_session: bool | None


class PolicyEngine:
    def __init__(self, policy: Policy, roster=None):
        self.policy = policy
        self.roster = roster
        self.catalog = policy.catalog
        self._tz = policy.timezone
        self._rules = self._compile(policy)
        self._cohort_order = tuple(policy.cohorts.values())
        self._subject_cohorts: dict[Subject, tuple[str, ...]] = {}
        self._decisions: dict[tuple, Decision] = {}
        self._ignore_domains = frozenset(policy.ignore_hosts)
        self._ignore_re = (re.compile("|".join(f"(?:{p})" for p in policy.ignore_patterns))
                           if policy.ignore_patterns else None)
        self._safesearch_cohorts = policy.safesearch.cohorts

    # ------------------------------------------------------------------ compile
    @staticmethod
    def _compile(policy: Policy) -> dict[str, tuple[_Compiled, ...]]:
        by_platform: dict[str, list[_Compiled]] = {p.id: [] for p in policy.catalog}
        for rule in policy.rules:
            compiled = _Compiled(
                rule=rule, cohorts=rule.cohorts, hosts=frozenset(rule.hosts),
                host_suffixes=tuple("." + h for h in rule.hosts),
                schedule=policy.schedules[rule.schedule] if rule.schedule else None,
                teacher_session=rule.teacher_session)
            if rule.hosts and not (rule.platforms or rule.categories):
                targets = {policy.catalog.match(h).id for h in rule.hosts}
            else:
                targets = set()
                for p in policy.catalog:
                    if (not rule.platforms and not rule.categories) or p.id in rule.platforms \
                            or p.category in rule.categories:
                        targets.add(p.id)
            for pid in targets:
                by_platform[pid].append(compiled)
        return {pid: tuple(rules) for pid, rules in by_platform.items()}

    def rules_for(self, platform_id: str) -> tuple[Rule, ...]:
        """The rules that can apply to a platform, in order (for tests and `explain`)."""
        return tuple(c.rule for c in self._rules.get(platform_id, ()))

    # ------------------------------------------------------------------ subjects
    def unknown_subject(self, source: str = "unknown", device: str | None = None) -> Subject:
        return Subject(UNKNOWN_USER, "unknown", None, (), (), frozenset(), source, device)

    def subject(self, identity, at: datetime) -> Subject:
        """The policy's view of an Identity on the local date of `at`."""
        if identity.user_id == UNKNOWN_USER or self.roster is None:
            return self.unknown_subject(identity.source, identity.device)
        person = self.roster.get(identity.user_id)
        if person is None:
            # The resolver only hands out roster users; a roster reloaded under us
            # may have dropped one. Most protective treatment, as for no identity.
            return self.unknown_subject("unknown", identity.device)
        return self._from_person(person, at, identity.source, identity.device)

    def subject_for_user(self, user_id: str, at: datetime) -> Subject:
        """For `crossingguard decide --user`: a roster user (id or username) or `unknown`."""
        from agent.errors import UsageError
        if user_id == UNKNOWN_USER:
            return self.unknown_subject()
        person = self.roster.get(user_id) if self.roster is not None else None
        if person is None:
            raise UsageError(f"no user {user_id!r} in the roster (give a sourcedId or username, or 'unknown')")
        return self._from_person(person, at, "auth", None)

    def _from_person(self, person, at: datetime, source: str, device: str | None) -> Subject:
        age = self.roster.age_on(person, at, self._tz)
        if person.role != "student" and source != "auth" and self.policy.staff_requires_proxy_auth:
            # security.staff_requires_proxy_auth: an address (device registry, DHCP) is not proof
            # of who is typing. A role with more rights than students is granted only to proxy
            # authentication; by address alone the person gets student rights at most, of unknown
            # age (treated as under 13, the most protective cohort), and no class memberships
            # (a teacher's classes would otherwise admit them to their own class's sessions).
            return Subject(person.user_id, "student", None, (), tuple(person.schools), frozenset(), source, device)
        return Subject(person.user_id, person.role, age, tuple(person.grades), tuple(person.schools),
                       frozenset(person.classes), source, device)

    def cohorts_of(self, subject: Subject) -> tuple[str, ...]:
        """Names of the cohorts the subject is in, in policy order."""
        cached = self._subject_cohorts.get(subject)
        if cached is not None:
            return cached
        if subject.role == "unknown" or subject.user_id == UNKNOWN_USER:
            # Unidentified: a student of unknown age (under 13) unless the policy says `teen`.
            roles = {"unknown", "student"}
            age = 13 if self.policy.unknown_as == "teen" else None
        else:
            roles = {subject.role}
            age = subject.age
        grades, schools = set(subject.grades), set(subject.schools)
        names = []
        for c in self._cohort_order:
            if c.roles is not None and not (roles & c.roles):
                continue
            if c.age_min is not None or c.age_max is not None:
                if age is None:
                    if not c.admits_under13:      # unknown age is treated as under 13
                        continue
                elif (c.age_min is not None and age < c.age_min) or (c.age_max is not None and age > c.age_max):
                    continue
            if c.grades is not None and not (grades & c.grades):
                continue
            if c.schools is not None and not (schools & c.schools):
                continue
            names.append(c.name)
        result = tuple(names)
        if len(self._subject_cohorts) >= _CACHE_LIMIT:
            self._subject_cohorts.clear()
        self._subject_cohorts[subject] = result
        return result

    # ------------------------------------------------------------------ decide
    def decide(self, subject: Subject, host: str, method: str, at: datetime,
               sessions: Sequence[TeacherSession] = ()) -> Decision:
        platform = self.catalog.match(host)
        if platform is None:
            return OUTSIDE_CATALOG
        candidates = self._rules.get(platform.id, ())
        if candidates:
            in_cohorts = self.cohorts_of(subject)
            session: TeacherSession | None = None
            session_known = False
            norm_host = None
            for c in candidates:
                if c.cohorts is None:
                    cohort = in_cohorts[0] if in_cohorts else None
                else:
                    for cohort in c.cohorts:
                        if cohort in in_cohorts:
                            break
                    else:
                        continue
                if c.hosts:
                    if norm_host is None:
                        norm_host = normalize_host(host) or ""
                    if norm_host not in c.hosts and not norm_host.endswith(c.host_suffixes):
                        continue
                if c.schedule is not None and not c.schedule.contains(at):
                    continue
                if c.teacher_session is not None:
                    if not session_known:
                        session = self.session_for(subject, platform.id, at, sessions)
                        session_known = True
                    if (session is not None) != c.teacher_session:
                        continue
                return self._decision(c.rule, platform, method, cohort,
                                      session.id if (session is not None and c.teacher_session) else None)
        return self._no_rule(platform)

    @staticmethod
    def session_for(subject: Subject, platform_id: str, at: datetime,
                    sessions: Sequence[TeacherSession]) -> TeacherSession | None:
        """The open teacher session covering this subject's class on this platform, if any."""
        classes = subject.classes
        if not classes:
            return None
        for s in sessions:
            if s.platform == platform_id and s.class_id in classes and s.active_at(at):
                return s
        return None

    def _decision(self, rule: Rule, platform: Platform, method: str, cohort: str | None,
                  session_id: str | None) -> Decision:
        action = rule.action
        if action == "block":
            verdict = "block"
        elif action == "read_only":
            verdict = "allow" if method.upper() in READ_METHODS else "block"
        else:                       # allow, monitor (monitor = allowed and flagged)
            verdict = "allow"
        key = (rule.id, platform.id, cohort, verdict, session_id)
        d = self._decisions.get(key)
        if d is None:
            d = Decision(verdict, action, platform.id, platform.category, rule.id, rule.guideline, rule.reason,
                         cohort, session_id)
            if len(self._decisions) >= _CACHE_LIMIT:
                self._decisions.clear()
            self._decisions[key] = d
        return d

    def _no_rule(self, platform: Platform) -> Decision:
        key = (DEFAULT_RULE, platform.id)
        d = self._decisions.get(key)
        if d is None:
            d = Decision("allow", "allow", platform.id, platform.category, DEFAULT_RULE, "",
                         "No district rule applies to this platform.", None)
            self._decisions[key] = d
        return d

    # ------------------------------------------------------------------ proxy questions
    def must_intercept(self, host: str) -> bool:
        """Whether the proxy must open TLS for this host: it is in the catalog (social
        platforms, DoH resolvers, piracy sites, search for SafeSearch) and not ignored.
        Everything else passes through as an untouched tunnel (cheap)."""
        return self.catalog.match(host) is not None and not self.is_ignored(host)

    def is_ignored(self, host: str) -> bool:
        """Certificate-pinned hosts the policy passes through untouched; this wins over
        the catalog, because intercepting a pinned client only breaks it."""
        h = normalize_host(host)
        if h is None:
            return False
        if self._ignore_re is not None and self._ignore_re.fullmatch(h):
            return True
        domains = self._ignore_domains
        if not domains:
            return False
        while True:
            if h in domains:
                return True
            i = h.find(".")
            if i < 0:
                return False
            h = h[i + 1:]

    def safesearch(self, subject: Subject) -> bool:
        """Whether to add YouTube-Restrict and force Google/Bing SafeSearch for this subject."""
        if not self._safesearch_cohorts:
            return False
        return any(c in self._safesearch_cohorts for c in self.cohorts_of(subject))

    def fail_mode(self, subject: Subject) -> str:
        """block | allow: what the subject's flows get when a filter fails."""
        return self.policy.fail_mode_for(subject.role)


__all__ = ["PolicyEngine", "OUTSIDE_CATALOG", "DEFAULT_RULE"]
