"""Every policy mistake comes back as FILE:LINE: KEY: what was expected."""
from __future__ import annotations

import pytest

from agent.errors import ConfigError
from agent.policy.loader import load_policy

# Line numbers matter below: keep this text's layout stable.
BASE = """\
district:
  name: Test District
  short_name: TD
guidelines:
  student.preamble: Learning only, under a teacher's direction.
  student.10: No piracy.
cohorts:
  kids:
    roles: [student, unknown]
    age_max: 12
  teens:
    roles: student
    age_min: 13
schedules:
  school:
    days: weekdays
    windows: ["08:00-15:00"]
rules:
  - id: r1
    cohorts: kids
    categories: social
    action: block
    guideline: student.preamble
    reason: Not for kids.
  - id: r2
    cohorts: teens
    platforms: [youtube]
    schedule: school
    action: read_only
    guideline: student.preamble
    reason: Look only.
"""


def sub(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (case id, policy text, expected "LINE: KEY: MESSAGE")
CASES = [
    ("bad-action", sub("    action: block\n", "    action: deny\n"),
     "22: rules[0].action: expected one of allow, block, read_only, monitor; got 'deny'"),
    ("bad-action-close", sub("    action: block\n", "    action: blok\n"),
     "22: rules[0].action: expected one of allow, block, read_only, monitor; got 'blok' (did you mean 'block'?)"),
    ("unknown-key", sub("    action: block\n", "    actoin: block\n"),
     "22: rules[0].actoin: unknown key (did you mean 'action'?); expected one of id, cohorts, platforms, "
     "categories, hosts, schedule, teacher_session, action, guideline, reason"),
    ("unknown-top-key", BASE + "safe_search:\n  cohorts: [kids]\n",
     "32: safe_search: unknown key (did you mean 'safesearch'?); expected one of version, district, guidelines, "
     "unknown_subject, cohorts, schedules, rules, safesearch, ignore_hosts, fail_mode, activity, security, incidents, "
     "store, alerts, catalog"),
    ("duplicate-key", sub("  teens:\n", "  kids:\n"),
     "11: cohorts.kids: duplicate key (first written on line 8)"),
    ("duplicate-rule-id", sub("  - id: r2\n", "  - id: r1\n"),
     "25: rules[1].id: duplicate rule id 'r1' (first used on line 19)"),
    ("unknown-cohort", sub("    cohorts: teens\n", "    cohorts: [teen]\n"),
     "26: rules[1].cohorts[0]: unknown cohort 'teen' (did you mean 'teens'?); expected one of kids, teens"),
    ("unknown-platform", sub("    platforms: [youtube]\n", "    platforms: [yutube]\n"),
     None),  # message lists every platform id; checked by prefix below
    ("unknown-category", sub("    categories: social\n", "    categories: socail\n"),
     "21: rules[0].categories[0]: expected one of social, kids, messaging, video, forum, file_sharing, doh, "
     "search; got 'socail' (did you mean 'social'?)"),
    ("unknown-schedule", sub("    schedule: school\n", "    schedule: schol\n"),
     "28: rules[1].schedule: unknown schedule 'schol' (did you mean 'school'?); expected one of school"),
    ("unknown-guideline", sub("    guideline: student.preamble\n    reason: Look", "    guideline: student.7\n    reason: Look"),
     "30: rules[1].guideline: unknown guideline clause 'student.7' (did you mean 'student.10'?); expected one of student.10, student.preamble"),
    ("bad-time", sub('"08:00-15:00"', '"08:00-25:00"'),
     "17: schedules.school.windows[0]: expected a time of day HH:MM from 00:00 to 24:00; got '25:00' in "
     "'08:00-25:00'"),
    ("window-backwards", sub('"08:00-15:00"', '"15:00-08:00"'),
     "17: schedules.school.windows[0]: expected the window to end after it starts (windows do not cross midnight; "
     "write two windows); got '15:00-08:00'"),
    ("bad-day", sub("    days: weekdays\n", "    days: [mon, tues]\n"),
     "16: schedules.school.days[1]: expected one of mon, tue, wed, thu, fri, sat, sun, weekdays, weekend, "
     "every_day; got 'tues' (did you mean 'tue'?)"),
    ("bad-timezone", sub("  short_name: TD\n", "  short_name: TD\n  timezone: America/Bostn\n"),
     "4: district.timezone: expected an IANA time zone like America/New_York; got 'America/Bostn' (did you mean 'America/Boise'?)"),
    ("bad-type-age", sub("    age_max: 12\n", "    age_max: twelve\n"),
     "10: cohorts.kids.age_max: expected a whole number from 0 to 120; got 'twelve' (a string)"),
    ("bad-type-bool", sub("    schedule: school\n", "    schedule: school\n    teacher_session: yes\n"),
     "29: rules[1].teacher_session: expected true or false; got 'yes' (a string)"),
    ("age-band-inverted", sub("    age_min: 13\n", "    age_min: 13\n    age_max: 10\n"),
     "14: cohorts.teens.age_max: expected age_max (10) to be at least age_min (13)"),
    ("negative-retention", BASE + "activity:\n  retention_days: -5\n",
     "33: activity.retention_days: expected a whole number of days, at least 1; got -5"),
    ("missing-reason", sub("    reason: Look only.\n", ""),
     "25: rules[1].reason: required key is missing"),
    ("missing-section", sub("guidelines:\n  student.preamble: Learning only, under a teacher's direction.\n"
                            "  student.10: No piracy.\n", "").replace("    guideline: student.preamble\n", ""),
     "1: guidelines: required key is missing"),
    ("empty-file", "", "1: (file): the file is empty; expected a mapping of settings"),
    ("comments-only", "# nothing here\n\n", "1: (file): the file is empty; expected a mapping of settings"),
    ("yaml-syntax", sub("    categories: social\n", "    categories: [social\n"),
     None),  # the parser's own words; checked by line and key below
    ("not-a-mapping", "- just\n- a list\n",
     "1: (document): expected a policy mapping (district, guidelines, cohorts, rules, ...); got a list"),
    ("bad-regex", BASE + "ignore_hosts:\n  - example.org\n  - \"regex:(unclosed\"\n",
     "34: ignore_hosts[1]: expected a valid regular expression after 'regex:'; got '(unclosed' "
     "(missing ), unterminated subpattern at position 0)"),
    ("bad-host-wildcard", sub("    platforms: [youtube]\n", "    platforms: [youtube]\n    hosts: ['*.youtube.com']\n"),
     "28: rules[1].hosts[0]: expected a domain name like example.com (no wildcards: a domain already matches its "
     "subdomains); got '*.youtube.com'"),
    ("host-outside-catalog", sub("    platforms: [youtube]\n", "    hosts: [example.org]\n"),
     "27: rules[1].hosts[0]: host 'example.org' is not in the platform catalog; expected a domain of a catalog "
     "platform (add one under catalog.platforms)"),
    ("ignore-host-ip", BASE + "ignore_hosts: [10.0.0.1]\n",
     "32: ignore_hosts[0]: expected a domain name; got the IP address '10.0.0.1' (IP literals never match)"),
    ("catalog-domain-taken", BASE + "catalog:\n  platforms:\n    myforum:\n      name: My forum\n"
                                    "      category: forum\n      domains: [myforum.example, reddit.com]\n",
     None),
    ("catalog-bad-category", BASE + "catalog:\n  platforms:\n    myforum:\n      name: My forum\n"
                                    "      category: chat\n      domains: [myforum.example]\n",
     "36: catalog.platforms.myforum.category: expected one of social, kids, messaging, video, forum, file_sharing, "
     "doh, search; got 'chat'"),
    ("bad-fail-mode", BASE + "fail_mode:\n  student: open\n",
     "33: fail_mode.student: expected one of block, allow; got 'open'"),
    ("bad-fail-role", BASE + "fail_mode:\n  studnet: block\n",
     "33: fail_mode.studnet: expected one of student, teacher, administrator, aide, proctor, guardian, parent, "
     "relative, unknown; got 'studnet' (did you mean 'student'?)"),
    ("bad-incident-mode", BASE + "incidents:\n  bullying: delete\n",
     "33: incidents.bullying: expected one of flag, hold; got 'delete'"),
    ("bad-store-url", BASE + "store:\n  url: mysql://db\n",
     "33: store.url: expected sqlite:///PATH or postgresql://...; got 'mysql://db'"),
    ("safesearch-unknown-cohort", BASE + "safesearch:\n  cohorts: [kids, adults]\n",
     "33: safesearch.cohorts[1]: unknown cohort 'adults'; expected one of kids, teens"),
    ("bad-role", sub("    roles: student\n", "    roles: pupil\n"),
     "12: cohorts.teens.roles[0]: expected one of student, teacher, administrator, aide, proctor, guardian, parent, "
     "relative, unknown; got 'pupil'"),
]


@pytest.mark.parametrize("case,text,expected", CASES, ids=[c[0] for c in CASES])
def test_policy_error_is_located(tmp_path, case, text, expected):
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    err = info.value
    assert str(err).startswith(f"{path}:"), str(err)
    if case == "missing-section":   # three mistakes, all reported in one run, in file order
        assert str(err).splitlines() == [f"{path}:{expected}",
                                          f"{path}:16: rules[0].guideline: required key is missing",
                                          f"{path}:21: rules[1].guideline: required key is missing"]
    elif expected is not None:
        assert str(err) == f"{path}:{expected}"
    elif case == "unknown-platform":
        assert (err.line, err.key) == (27, "rules[1].platforms[0]")
        assert err.message.startswith("unknown platform 'yutube' (did you mean 'youtube'?); expected one of ")
    elif case == "yaml-syntax":
        assert err.key == "(syntax)" and err.line in (21, 22)
        assert err.message.startswith("invalid YAML:")
    elif case == "catalog-domain-taken":
        assert (err.line, err.key) == (37, "catalog.platforms.myforum.domains[1]")
        assert err.message.startswith("domain 'reddit.com' already belongs to platform 'reddit'")


def test_base_policy_is_valid(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(BASE, encoding="utf-8")
    policy = load_policy(path)
    assert [r.id for r in policy.rules] == ["r1", "r2"]
    assert policy.timezone.key == "America/New_York"
    assert policy.fail_mode_for("student") == "block"
    assert policy.fail_mode_for("unknown") == "block"
    assert policy.fail_mode_for("teacher") == "allow"
    assert policy.fail_mode["student"] == policy.fail_mode["unknown"] == policy.fail_mode["guardian"] == "block"
    assert policy.fail_mode["teacher"] == policy.fail_mode["aide"] == "allow"
    assert policy.retention_days == 365
    assert policy.store_url is None and policy.ignore_hosts == ()
    assert policy.incidents == {c: "flag" for c in ("bullying", "threat", "self_harm", "pii", "impersonation")}


def test_fail_mode_written_in_the_policy_wins(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(BASE + "fail_mode:\n  teacher: block\n  student: allow\n", encoding="utf-8")
    policy = load_policy(path)
    assert (policy.fail_mode_for("teacher"), policy.fail_mode_for("student")) == ("block", "allow")
    assert policy.fail_mode_for("unknown") == "block"


def test_unquoted_times_are_text_not_sexagesimal_numbers(tmp_path):
    # PyYAML's YAML 1.1 resolver reads 15:30 as the integer 930; ours keeps it text.
    path = tmp_path / "policy.yaml"
    path.write_text(sub('["08:00-15:00"]', "[08:00-15:30]"), encoding="utf-8")
    schedule = load_policy(path).schedules["school"]
    assert schedule.windows == ((480, 930),)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_policy(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: (file): file not found"


def test_catalog_extension_adds_platforms_and_domains(tmp_path):
    text = BASE + ("catalog:\n  platforms:\n    myforum:\n      name: My forum\n      category: forum\n"
                   "      domains: [myforum.example]\n  add_domains:\n    youtube: [yt.example.org]\n")
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    assert policy.catalog.match("www.myforum.example").id == "myforum"
    assert policy.catalog.match("a.yt.example.org").id == "youtube"
    assert policy.catalog.match("www.youtube.com").id == "youtube"
    from agent.policy.catalog import default_catalog
    assert default_catalog().match("www.myforum.example") is None   # the shipped catalog is untouched
