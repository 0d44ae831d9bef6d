"""The load test's simulated people (locust, headless), run by bench/load_test.py.

Each simulated person signs in once, with an account of their own (a TOTP code is accepted
once per 30-second step per account), then acts as people do, waiting 2 to 5 s between
actions:

- vendor contacts fill their questionnaire in the portal, each answer saved by the autosave
  endpoint as the page's script does (JSON, the CSRF token in a header, the version of the
  answer shown); every saved answer is written to a file so that the harness counts afterwards
  that each one is in the database;
- risk officers look at their dashboard, vendor pages, blast-radius and risk tabs, the review
  and findings lists;
- procurement looks at its dashboard and the vendor list, and searches a vendor by name typed
  a keystroke at a time (each keystroke asks the names the field suggests);
- inventory editors open a credential's or a system's edit form and save it with the version
  it was opened on (optimistic lock); each save's time is written down, so that the harness
  measures how soon the portfolio's aggregates were current after the last edit.

Every request is named after its page (bench/load/load_pages.py), so locust's figures come per
page. The accounts, ids and output files come from the plan the harness writes (the path in
VR_LOAD_PLAN). See bench/README.md, "Load test".
"""

from __future__ import annotations

import json
import os
import random
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyotp
from load_pages import path
from locust import HttpUser, between, task
from locust.exception import StopUser

PLAN: dict[str, Any] = (
    json.loads(Path(os.environ["VR_LOAD_PLAN"]).read_text()) if "VR_LOAD_PLAN" in os.environ else {}
)
# Who does what, which answer, which vendor: a simulation, not secrets.
rng = random.Random()  # noqa: S311
WAIT = between(2, 5)  # seconds between a person's actions
KEYSTROKE = (0.12, 0.35)  # seconds between two keystrokes of someone typing a name
_unclaimed: dict[str, list[dict]] = {
    role: list(reversed(accounts)) for role, accounts in PLAN.get("accounts", {}).items()
}


def _append(name: str, record: dict) -> None:
    """One JSON line in the plan's file ``name`` (one locust process: greenlets never write
    at the same time, and each line is flushed at once)."""
    with open(PLAN[name], "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


# ---- reading the pages ---------------------------------------------------------------------


class Page(HTMLParser):
    """What a browser would read of a page: its forms' fields (as they would be submitted)
    and, on a questionnaire, each question's inputs and the autosave script's data."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self.questions: dict[str, dict[str, Any]] = {}
        self.questionnaire: dict[str, str] = {}
        self.conditions: dict[str, Any] = {"order": [], "conditions": {}}
        self.errors: list[str] = []  # the messages at fields and the error flashes
        self._error: list[str] | None = None
        self._form: dict[str, Any] | None = None
        self._question: dict[str, Any] | None = None
        self._select: list | None = None
        self._textarea: list | None = None
        self._script: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "fields": []}
            self.forms.append(self._form)
        elif tag == "fieldset" and "question" in a.get("class", "").split():
            self._question = {
                "id": a["data-question"],
                "type": a.get("data-type", ""),
                "version": int(a.get("data-version") or 0),
                "shown": "hidden" not in a,
                "options": [],
            }
            self.questions[self._question["id"]] = self._question
        elif a.get("id") == "questionnaire":
            self.questionnaire = a
        elif tag == "script" and a.get("id") == "show-if-data":
            self._script = []
        elif tag == "input":
            self._input(a)
        elif tag == "select":
            self._select = [a.get("name", ""), "multiple" in a, []]
        elif tag == "option" and self._select is not None:
            self._select[2].append((a.get("value", ""), "selected" in a))
            self._option(self._select[0], a.get("value", ""))
        elif tag == "textarea":
            self._textarea = [a.get("name", ""), ""]
        elif tag == "p" and {"error", "flash-error"} & set(a.get("class", "").split()):
            self._error = [a.get("id", "")]

    def _input(self, a: dict[str, str]) -> None:
        kind, name, value = a.get("type", "text"), a.get("name", ""), a.get("value", "")
        if kind in ("radio", "checkbox"):
            self._option(name, value)
            if "checked" in a:
                self._field(name, value or "on")
        elif kind not in ("submit", "button", "file", "reset", "image") and name:
            self._field(name, value)

    def _option(self, name: str, value: str) -> None:
        if self._question is not None and name == f"a-{self._question['id']}" and value:
            self._question["options"].append(value)

    def _field(self, name: str, value: str) -> None:
        if self._form is not None and name:
            self._form["fields"].append((name, value))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data
        if self._script is not None:
            self._script.append(data)
        if self._error is not None:
            self._error.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._error is not None:
            where, *text = self._error
            self.errors.append(f"{where}: {''.join(text).strip()}")
            self._error = None
        elif tag == "form":
            self._form = None
        elif tag == "fieldset":
            self._question = None
        elif tag == "select" and self._select is not None:
            name, multiple, options = self._select
            chosen = [value for value, selected in options if selected]
            if not chosen and not multiple and options:
                chosen = [options[0][0]]
            for value in chosen:
                self._field(name, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self._field(name, text.removeprefix("\n"))
            self._textarea = None
        elif tag == "script" and self._script is not None:
            self.conditions = json.loads("".join(self._script))
            self._script = None

    def form_with(self, field: str) -> list[tuple[str, str]]:
        """The fields of the first form that has ``field`` (KeyError when none has)."""
        for form in self.forms:
            if any(name == field for name, _ in form["fields"]):
                return form["fields"]
        raise KeyError(field)


def _csrf(html: str) -> str:
    return dict(Page(html).form_with("csrf_token"))["csrf_token"]


# ---- show-if, as the autosave script applies it (core/questionnaire/conditions.py) ---------


def _holds(condition: dict, answers: dict[str, Any]) -> bool:
    if "all" in condition:
        return all(_holds(part, answers) for part in condition["all"])
    if "any" in condition:
        return any(_holds(part, answers) for part in condition["any"])
    if "not" in condition:
        return not _holds(condition["not"], answers)
    answer = answers.get(condition["question"])
    many = isinstance(answer, list)
    if "equals" in condition:
        return condition["equals"] in answer if many else answer == condition["equals"]
    if "one_of" in condition:
        wanted = condition["one_of"]
        return any(v in answer for v in wanted) if many else answer in wanted
    answered = answer not in (None, "", [])
    return answered == condition.get("answered", True)


def _read(condition: dict) -> list[str]:
    parts = condition.get("all") or condition.get("any") or []
    if "not" in condition:
        parts = [condition["not"]]
    if parts:
        return [q for part in parts for q in _read(part)]
    return [condition["question"]]


def visible(conditions: dict, answers: dict[str, Any]) -> list[str]:
    shown: list[str] = []
    for qid in conditions["order"]:
        condition = conditions["conditions"].get(qid)
        if condition is None or (
            all(q in shown for q in _read(condition)) and _holds(condition, answers)
        ):
            shown.append(qid)
    return shown


# ---- the people ----------------------------------------------------------------------------


class Person(HttpUser):
    """Someone with an account of ``role`` in the plan, signed in once at the start."""

    abstract = True
    wait_time = WAIT
    role = ""

    def on_start(self) -> None:
        accounts = _unclaimed.get(self.role) or []
        if not accounts:
            self.environment.events.request.fire(
                request_type="SETUP",
                name=f"no {self.role} account left in the plan",
                response_time=0,
                response_length=0,
                exception=RuntimeError("the plan has fewer accounts than simulated users"),
                context={},
            )
            raise StopUser
        self.account = accounts.pop()
        self.sign_in()

    def get(self, name: str, query: dict | None = None, **values) -> Any:
        """GET a page, a failure unless 200: a redirect is one too (to the login page when
        the session was lost; the URLs are the rules' own spelling, so never a slash's)."""
        with self.client.get(
            path(name, **values),
            params=query,
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} on {response.url}")
            return response

    def post_form(self, name: str, fields: list[tuple[str, str]], **values) -> Any:
        """POST a form as a browser does, without following the redirect (timed apart)."""
        return self.client.post(
            path(name, **values),
            data=fields,
            name=name,
            allow_redirects=False,
            catch_response=True,
        )

    def sign_in(self) -> None:
        page = self.get("auth: login page")
        fields = {
            "csrf_token": _csrf(page.text),
            "email": self.account["email"],
            "password": self.account["password"],
        }
        with self.post_form("auth: password", list(fields.items())) as response:
            if response.status_code != 302 or "/auth/mfa" not in response.headers["Location"]:
                response.failure(f"password refused: {response.status_code}")
                return
        totp = pyotp.TOTP(self.account["totp_secret"])
        for _attempt in range(2):
            page = self.get("auth: TOTP page")
            fields = [("csrf_token", _csrf(page.text)), ("code", totp.now())]
            with self.post_form("auth: TOTP code", fields) as response:
                if response.status_code == 302:
                    return
                if response.status_code == 401:
                    # The code of this step was used already (a restart): wait for the next.
                    response.success()
                    time.sleep(30 - time.time() % 30 + 0.5)
                    continue
                response.failure(f"TOTP code refused: {response.status_code}")
                return


class VendorContact(Person):
    """Fills the questionnaire of their vendor; every answer saves itself."""

    role = "vendor_contact"
    weight = 10

    def on_start(self) -> None:
        super().on_start()
        if not hasattr(self, "account"):
            return
        self.request_id = self.account["request_id"]
        self.get("portal: home")
        self.open_questionnaire()

    def open_questionnaire(self) -> None:
        response = self.get("portal: questionnaire", request_id=self.request_id)
        page = Page(response.text)
        self.csrf = page.questionnaire.get("data-csrf", "")
        self.conditions = page.conditions
        self.questions = {
            qid: q for qid, q in page.questions.items() if q["type"] not in ("file", "info")
        }
        known = getattr(self, "answers", {})
        self.answers: dict[str, Any] = {qid: known.get(qid) for qid in self.questions}
        # Questions whose answer shows or hides others: answered once (changing them would hide
        # answers already given, which a person seldom does).
        self.parents = {q for c in self.conditions["conditions"].values() for q in _read(c)} & set(
            self.questions
        )

    def _value(self, question: dict) -> Any:
        options, kind = question["options"], question["type"]
        if kind == "multiple_choice" and options:
            return rng.sample(options, rng.randint(1, len(options)))
        if options:
            return "yes" if "yes" in options and rng.random() < 0.8 else rng.choice(options)
        if kind == "number":
            return str(rng.randint(0, 5000))
        if kind == "date":
            return f"2026-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
        if kind == "long_text":
            return f"We do this as policy {rng.randint(1, 999)} describes, reviewed each year."
        return f"Answer {rng.randint(1, 99_999)}"

    @task(10)
    def autosave_answer(self) -> None:
        shown = [qid for qid in visible(self.conditions, self.answers) if qid in self.questions]
        unanswered = [qid for qid in shown if self.answers.get(qid) in (None, "", [])]
        revisable = [qid for qid in shown if qid not in self.parents]
        choices = unanswered if unanswered and rng.random() < 0.8 else revisable
        if not choices:
            return
        qid = rng.choice(choices)
        question = self.questions[qid]
        value = self._value(question)
        body = {"value": value, "comment": None, "base_version": question["version"]}
        with self.client.post(
            path("portal: autosave answer", request_id=self.request_id, question_id=qid),
            json=body,
            headers={"X-CSRFToken": self.csrf, "Accept": "application/json"},
            name="portal: autosave answer",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            saved = response.json()
            question["version"] = saved["version"]
            self.answers[qid] = value
            _append(
                "answers_file",
                {
                    "request_id": self.request_id,
                    "question_id": qid,
                    "value": value,
                    "version": saved["version"],
                    "status": saved["status"],
                },
            )

    @task(1)
    def reload_questionnaire(self) -> None:
        self.open_questionnaire()

    @task(1)
    def portal_home(self) -> None:
        self.get("portal: home")


def _vendor_id() -> int:
    return rng.randint(*PLAN["vendor_ids"])


class RiskOfficer(Person):
    role = "risk_officer"
    weight = 4

    @task(3)
    def dashboard(self) -> None:
        self.get("risk: dashboard")

    @task(3)
    def vendor_page(self) -> None:
        self.get("inventory: vendor page", vendor_id=_vendor_id())

    @task(2)
    def blast_radius(self) -> None:
        self.get("inventory: vendor blast radius", vendor_id=_vendor_id())

    @task(1)
    def vendor_risk(self) -> None:
        self.get("inventory: vendor risk", vendor_id=_vendor_id())

    @task(1)
    def portfolio(self) -> None:
        self.get("inventory: portfolio")

    @task(1)
    def review_list(self) -> None:
        self.get("review: list")

    @task(1)
    def findings_list(self) -> None:
        self.get("findings: list")


class Procurement(Person):
    role = "procurement"
    weight = 4

    @task(2)
    def dashboard(self) -> None:
        self.get("procurement: dashboard")

    @task(2)
    def vendor_list(self) -> None:
        # Mostly the first pages (sorted by name), now and then a deep one.
        page = min(PLAN["vendor_pages"], 1 + int(rng.expovariate(1 / 3)))
        self.get("inventory: vendor list", {"page": page})

    @task(2)
    def search_by_name(self) -> None:
        """A vendor's name typed one keystroke at a time, the field asking for suggestions
        at each, then the list searched by what was typed."""
        name = rng.choice(PLAN["vendor_names"])
        typed = name[: rng.randint(3, len(name))]
        for end in range(1, len(typed) + 1):
            self.get("inventory: vendor names (keystroke)", {"q": typed[:end]})
            time.sleep(rng.uniform(*KEYSTROKE))
        self.get("inventory: vendor search", {"q": typed})

    @task(1)
    def requests_list(self) -> None:
        self.get("requests: list")


class InventoryEditor(Person):
    """Keeps the inventory up to date: opens an edit form, changes the owner, saves."""

    role = "inventory_editor"
    weight = 2

    def edit(self, kind: str, row_id: int) -> None:
        ids = {f"{kind}_id": row_id}
        form = self.get(f"inventory: {kind} edit form", **ids)
        if form.status_code != 200:
            return
        fields = Page(form.text).form_with("version")
        owner = f"team-{rng.randint(0, 39)} (checked {time.strftime('%H:%M:%S')})"
        fields = [(name, owner if name == "owner" else value) for name, value in fields]
        with self.post_form(f"inventory: {kind} save", fields, **ids) as response:
            if response.status_code == 302:
                _append("edits_file", {"at": time.time(), "kind": kind, "id": row_id})
            elif response.status_code == 400 and "after you opened this form" in response.text:
                # Someone saved it in the meantime: the lock did its job; not an error.
                response.success()
            else:
                errors = "; ".join(Page(response.text).errors)[:300]
                response.failure(f"{response.status_code}: not saved: {errors}")

    @task(3)
    def edit_credential(self) -> None:
        self.edit("credential", rng.randint(*PLAN["credential_ids"]))

    @task(1)
    def edit_system(self) -> None:
        self.edit("system", rng.randint(*PLAN["system_ids"]))

    @task(1)
    def credentials_list(self) -> None:
        self.get("inventory: credentials list")

    @task(1)
    def vendor_page(self) -> None:
        self.get("inventory: vendor page", vendor_id=_vendor_id())
