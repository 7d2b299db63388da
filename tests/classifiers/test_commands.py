"""The classify / evaluate / train command contracts, through agent.cli.main."""
import csv
import io
import json
import random

import pytest

from agent.cli import main
from classifiers.types import CATEGORIES


def run_cli(argv, capsys, monkeypatch, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, [json.loads(line) for line in out.splitlines() if line.strip()], err


def test_classify_contract(capsys, monkeypatch):
    lines = [
        {"id": 1, "text": "u r s0 ugly, nobody likes you"},
        {"id": "b", "text": "I will shoot up the school tomorrow", "platform": "x", "kind": "post"},
        {"id": 3, "text": "i want to die"},
        {"id": 4, "text": "see you at practice!"},
    ]
    rc, out, err = run_cli(["classify"], capsys, monkeypatch, "\n".join(json.dumps(x) for x in lines) + "\n")
    assert rc == 0, err
    assert [o["id"] for o in out] == [1, "b", 3, 4]
    for o in out:
        assert set(o["scores"]) == set(CATEGORIES)
        assert all(0.0 <= v <= 1.0 for v in o["scores"].values())
        assert set(o["labels"]) <= set(CATEGORIES)
        for e in o["evidence"]:
            assert {"category", "kind", "text"} <= set(e)
    assert "bullying" in out[0]["labels"]
    assert "threat" in out[1]["labels"]
    assert any(e["kind"] == "pattern" and e["text"] == "I will shoot up the school" for e in out[1]["evidence"])
    assert "self_harm" in out[2]["labels"]
    assert out[3]["labels"] == []


def test_classify_bad_lines_are_reported_with_line_numbers_and_the_rest_scored(capsys, monkeypatch):
    stdin = "\n".join([
        json.dumps({"id": 1, "text": "hello"}),
        "this is not json",
        json.dumps({"id": 2}),
        json.dumps(["a list"]),
        json.dumps({"id": 3, "text": "you are an idiot", "author": 5}),
        json.dumps({"id": 4, "text": "bye"}),
    ]) + "\n"
    rc, out, err = run_cli(["classify"], capsys, monkeypatch, stdin)
    assert rc == 1
    assert [o["id"] for o in out] == [1, 4]
    assert "<stdin>:2: not JSON" in err
    assert "<stdin>:3: text: missing" in err
    assert "<stdin>:4: not a JSON object" in err
    assert "<stdin>:5: author: not a string" in err


def test_classify_author_must_be_in_the_roster(capsys, monkeypatch):
    rc, out, err = run_cli(["classify", "--author", "nobody-here"], capsys, monkeypatch, "")
    assert rc == 2 and "not in the roster" in err


def test_classify_author_option_feeds_pii(capsys, monkeypatch):
    stdin = json.dumps({"id": 1, "text": "call me at 978-555-0142"}) + "\n"
    rc, out, err = run_cli(["classify", "--author", "stu-1001"], capsys, monkeypatch, stdin)
    assert rc == 0, err
    assert "pii" in out[0]["labels"]
    assert any(e["category"] == "pii" and e["text"] == "978-555-0142" for e in out[0]["evidence"])


def write_csv(path, rows):
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return path


def test_evaluate_on_a_small_csv(tmp_path, capsys, monkeypatch):
    rows = [("you are so ugly and stupid", 1), ("shut up loser", 1), ("ur an idiot", 1), ("you fat clown", 1),
            ("see you at practice", 0), ("thanks for the notes", 0), ("what time is lunch", 0), ("nice shot today", 0)]
    path = write_csv(tmp_path / "eval.csv", rows)
    rc, out, err = run_cli(["evaluate", "--data", str(path), "--category", "bullying"], capsys, monkeypatch)
    assert rc == 0, err
    (res,) = out
    assert res["category"] == "bullying" and res["n"] == 8 and res["positives"] == 4
    assert res["roc_auc"] == 1.0          # these are easy: the shipped model must rank them right
    assert 0 <= res["pr_auc"] <= 1 and "precision" in res and "recall" in res and "threshold" in res


def test_evaluate_bad_csv_names_file_and_line(tmp_path, capsys, monkeypatch):
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nhello,0\nbye,maybe\n")
    rc, out, err = run_cli(["evaluate", "--data", str(path)], capsys, monkeypatch)
    assert rc == 2
    assert f"{path}:3: label: expected 0 or 1" in err


def test_evaluate_unknown_split(capsys, monkeypatch):
    rc, out, err = run_cli(["evaluate", "--split", "nope"], capsys, monkeypatch)
    assert rc == 2 and "unknown source" in err


@pytest.mark.slow
def test_smoke_train_from_csv_then_classify_with_it(tmp_path, capsys, monkeypatch):
    rng = random.Random(7)
    insults = ["ugly", "stupid", "loser", "idiot", "freak", "clown", "trash", "pathetic"]
    nice = ["great", "funny", "kind", "smart", "cool", "awesome", "helpful", "brave"]
    rows = []
    for _ in range(150):
        rows.append((f"you are so {rng.choice(insults)} and {rng.choice(insults)}", 1))
        rows.append((f"you are so {rng.choice(nice)} and {rng.choice(nice)} today", 0))
    csv_path = write_csv(tmp_path / "train.csv", rows)
    out_dir = tmp_path / "models"
    rc, out, err = run_cli(["train", "--csv", str(csv_path), "--category", "bullying", "--out", str(out_dir)],
                           capsys, monkeypatch)
    assert rc == 0, err
    assert "train" in err                      # the tqdm progress bar went to stderr
    assert (out_dir / "bullying.npz").is_file() and (out_dir / "bullying.json").is_file()
    stdin = json.dumps({"id": 1, "text": "you are so pathetic"}) + "\n" + json.dumps({"id": 2, "text": "you are so kind"}) + "\n"
    rc, res, err = run_cli(["classify", "--models", str(out_dir)], capsys, monkeypatch, stdin)
    assert rc == 0, err
    assert res[0]["scores"]["bullying"] > 0.5 > res[1]["scores"]["bullying"]
    # a model folder with only bullying still gives all five scores
    assert set(res[0]["scores"]) == set(CATEGORIES) and res[0]["scores"]["threat"] == 0.0


def test_train_with_a_missing_data_dir_is_a_clear_error(tmp_path, capsys, monkeypatch):
    rc, out, err = run_cli(["train", "--data", str(tmp_path), "--out", str(tmp_path / "m")], capsys, monkeypatch)
    assert rc == 2 and "train.csv: missing" in err


# --- profile / sign-up without an account name: the text is the name being set -------------------
@pytest.mark.parametrize("line, impersonation", [
    # another student's full name as the profile name (demo roster: Theo Brandt, stu-1002)
    ({"kind": "profile", "text": "Theo Brandt", "author": "stu-1001"}, True),
    ({"kind": "signup", "text": "theo_brandt07", "author": "stu-1001"}, True),
    ({"kind": "signup", "text": "TheoBrandt"}, True),                          # no author: every match counts
    # one's own name is not impersonation
    ({"kind": "profile", "text": "Mila Harrow", "author": "stu-1001"}, False),
    # an ordinary post naming a classmate is not an account name
    ({"kind": "post", "text": "Theo Brandt", "author": "stu-1001"}, False),
    # a separate account name still wins over the text (the text is then a bio)
    ({"kind": "profile", "text": "Theo Brandt", "account": "mila_h", "author": "stu-1001"}, False),
    # a long bio is not a name
    ({"kind": "profile", "text": "i love soccer and my friends, shoutout to theo brandt for the assist " * 2,
      "author": "stu-1001"}, False),
])
def test_profile_and_signup_text_is_judged_as_the_account_name(line, impersonation, capsys, monkeypatch):
    rc, out, err = run_cli(["classify"], capsys, monkeypatch, json.dumps({"id": 1, **line}) + "\n")
    assert rc == 0, err
    assert ("impersonation" in out[0]["labels"]) is impersonation, out[0]
    if impersonation:
        ev = [e for e in out[0]["evidence"] if e["category"] == "impersonation"]
        assert ev and ev[0]["kind"] == "account_name" and ev[0]["text"] == line["text"]


def test_profile_named_after_the_district_is_district_voice(capsys, monkeypatch):
    rc, out, err = run_cli(["classify"], capsys, monkeypatch,
                           json.dumps({"id": 1, "kind": "signup", "text": "ENSATSD Athletics"}) + "\n")
    assert rc == 0, err
    assert "impersonation" in out[0]["labels"]
    assert any(e["kind"] == "district" for e in out[0]["evidence"])


# --- train --extra: counselors' decisions (crossingguard export-labels) ----------------------------
def _small_training_csv(tmp_path):
    rng = random.Random(11)
    insults = ["ugly", "stupid", "loser", "idiot", "freak", "clown", "trash", "pathetic"]
    nice = ["great", "funny", "kind", "smart", "cool", "awesome", "helpful", "brave"]
    rows = []
    for _ in range(60):
        rows.append((f"you are so {rng.choice(insults)} and {rng.choice(insults)}", 1))
        rows.append((f"you are so {rng.choice(nice)} and {rng.choice(nice)} today", 0))
    return write_csv(tmp_path / "train.csv", rows)


def test_train_with_extra_labels_changes_the_model(tmp_path, capsys, monkeypatch):
    import numpy as np

    from classifiers.textmodels import CategoryModel

    csv_path = _small_training_csv(tmp_path)
    extra = tmp_path / "labels.csv"
    # the layout `crossingguard export-labels` writes: text,category,label (1 confirmed, 0 dismissed)
    extra.write_text("text,category,label\n"
                     + "\n".join(["you are a walrus,bullying,1", "walrus face walrus,bullying,1",
                                  "you are so funny and cool today,bullying,0",
                                  "my number is 555-0101,pii,1"] * 3) + "\n")
    base, more = tmp_path / "base", tmp_path / "more"
    for out_dir, args in ((base, []), (more, ["--extra", str(extra)])):
        rc, out, err = run_cli(["train", "--csv", str(csv_path), "--category", "bullying", "--out", str(out_dir), *args],
                               capsys, monkeypatch)
        assert rc == 0, err
    a, b = CategoryModel.load(base, "bullying"), CategoryModel.load(more, "bullying")
    assert b.meta["extra_rows"] == {"file": "labels.csv", "rows": 9}     # pii rows are not a text model's
    assert "walrus" not in " ".join(a.vocab) and any("walrus" in t for t in b.vocab)
    assert a.meta["training"]["n_train"] + 9 - 2 <= b.meta["training"]["n_train"] <= a.meta["training"]["n_train"] + 9
    assert not np.array_equal(a.coef[:100], b.coef[:100]) or a.vocab != b.vocab
    stdin = json.dumps({"id": 1, "text": "you are a walrus"}) + "\n"
    scores = []
    for out_dir in (base, more):
        rc, res, err = run_cli(["classify", "--models", str(out_dir)], capsys, monkeypatch, stdin)
        assert rc == 0, err
        scores.append(res[0]["scores"]["bullying"])
    assert scores[1] > scores[0]


@pytest.mark.parametrize("body, problem", [
    ("text,label\nhi,1\n", ":1: header: expected columns text,category,label (missing category)"),
    ("text,category,label\nhi,bullying,2\n", ":2: label: expected 0 or 1, got '2'"),
    ("text,category,label\nhi,hate,1\n", ":2: category: expected one of bullying, threat, self_harm"),
    ("text,category,label\n,threat,1\n", ":2: text: empty"),
])
def test_train_extra_bad_file_names_line_and_key(tmp_path, capsys, monkeypatch, body, problem):
    csv_path = _small_training_csv(tmp_path)
    extra = tmp_path / "labels.csv"
    extra.write_text(body)
    rc, out, err = run_cli(["train", "--csv", str(csv_path), "--out", str(tmp_path / "m"), "--extra", str(extra)],
                           capsys, monkeypatch)
    assert rc == 2 and f"labels.csv{problem}" in err, err
    assert not (tmp_path / "m").exists()          # nothing trained from a half-read file


def test_evaluate_loso_prints_in_source_and_left_out_figures(tmp_path, capsys, monkeypatch):
    """--loso on a small synthetic copy of the two self-harm sources (no shared data needed), with
    a small seed file standing for the shipped ones (the recipe trains on every seed post: the
    shipped 9,700 cost ~200 s of embedding into this test's empty cache and say nothing more here)."""
    from classifiers.train import heads as train_heads
    from classifiers.train.heads import EmbeddingCache, prepare

    rng = random.Random(5)
    seed_file = tmp_path / "seeds.csv"
    seed_rows = [("i dont want to wake up tomorrow", "self_harm", 1, "self_harm"),
                 ("i hid the blades in my sock drawer again", "self_harm", 1, "self_harm"),
                 ("im worried my friend is cutting again", "self_harm", 1, "concern"),
                 ("this test is killing me lol", "none", 0, "hyperbole"),
                 ("my friend keeps calling me names what do i do", "none", 0, "help"),
                 ("see u at practice", "none", 0, "ordinary")]
    with seed_file.open("w", newline="") as f:
        csv.writer(f).writerows([("text", "category", "label", "kind")] + seed_rows)
    monkeypatch.setattr(train_heads, "seed_files", lambda: [seed_file])
    sad = ["i want to end it all", "i cant go on anymore", "nobody would miss me", "i keep hurting myself",
           "i wrote my goodbye note", "i am so tired of living"]
    glad = ["see you at the game", "pizza after practice", "finished my homework", "my dog is so cute",
            "new shoes today", "band concert tonight"]
    # the self-harm heads borrow negatives from these (violent posts, insults, everyday text): a few rows each
    for source in ("threatgram", "kaggle_insults", "gametox_peer_toxicity", "olid", "askfm"):
        (tmp_path / "data" / source).mkdir(parents=True)
        write_csv(tmp_path / "data" / source / "train.csv",
                  [(f"you are a loser {source} {i}", 1) for i in range(20)] + [(f"hello {i}", 0) for i in range(20)])
    for source in ("suicidal_tweets", "reddit_sw_teens"):
        rows = [(f"{rng.choice(sad)} {source} {i}", 1) for i in range(40)]
        rows += [(f"{rng.choice(glad)} {source} {i}", 0) for i in range(40)]
        (tmp_path / "data" / source).mkdir(parents=True)
        write_csv(tmp_path / "data" / source / "train.csv", rows)
    monkeypatch.setenv("CROSSINGGUARD_CACHE", str(tmp_path / "cache"))
    rc, out, err = run_cli(["evaluate", "--loso", "--category", "self_harm", "--shared", str(tmp_path / "data")],
                           capsys, monkeypatch)
    assert rc == 0, err
    assert [(o["category"], o["source"]) for o in out] == [("self_harm", "suicidal_tweets"), ("self_harm", "reddit_sw_teens")]
    for o in out:
        for kind in ("in_source", "left_out"):
            for member in ("tfidf", "head", "ensemble"):
                fig = o[kind][member]
                assert fig["n"] == 16 and fig["positives"] == 8
                assert 0.0 <= fig["ci95"][0] <= fig["auc"] <= fig["ci95"][1] <= 1.0
        assert o["shipped_models"]["auc"] is not None
    assert (tmp_path / "cache").is_dir()        # embeddings cached where told, not in the data folder
    # the seed posts were in the recipe: their vectors are in that cache
    cache = EmbeddingCache(tmp_path / "cache" / next(p.name for p in (tmp_path / "cache").iterdir()))
    keys = [EmbeddingCache.key(t) for t in prepare([r[0] for r in seed_rows])]
    found = cache.db.execute("SELECT count(*) FROM v WHERE k IN (%s)" % ",".join("?" * len(keys)), keys).fetchone()[0]
    assert found == len(seed_rows)
