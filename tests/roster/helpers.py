"""Small synthetic rosters written into tmp_path, one file per keyword."""
from __future__ import annotations

from pathlib import Path

ORGS = """sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
d1,active,,Test District,district,,
s1,active,,Test School One,school,,d1
s2,active,,Test School Two,school,,d1
"""

USERS = """sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password
u1,active,,true,s1,student,ann.a,,Ann,Alpha,,,ann@x.example,,,,07,
u2,active,,true,"s1,s2",teacher,bob.b,,Bob,Beta,,,,,,,,
u3,active,,true,s2,student,cy.c,,Cy,Gamma,,,,,,,"09,10",
"""

DEMOGRAPHICS = """sourcedId,status,dateLastModified,birthDate,sex
u1,active,,2013-03-10,
u3,active,,2012-02-29,
"""

CLASSES = """sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
c1,active,,Science,07,,,scheduled,,s1,,,,
c2,active,,Media,09,,,scheduled,,s2,,,,
"""

ENROLLMENTS = """sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e1,active,,c1,s1,u2,teacher,true,,
e2,active,,c1,s1,u1,student,false,,
e3,active,,c2,s2,u3,student,false,,
"""

DEFAULTS = {
    "orgs.csv": ORGS,
    "users.csv": USERS,
    "demographics.csv": DEMOGRAPHICS,
    "classes.csv": CLASSES,
    "enrollments.csv": ENROLLMENTS,
}


def write_roster(directory: Path, **files: str | bytes | None) -> Path:
    """Write the default roster, with `users="..."` etc. replacing (or None removing) a file."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, default in DEFAULTS.items():
        key = name[:-4]
        content = files.get(key, default)
        if content is None:
            continue
        path = directory / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return directory
