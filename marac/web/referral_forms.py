"""The referral form: people, safe contact, the risk checklist (built from the area's checklist
file), call-outs, professional judgement and consent. Every check adds its message to the field
it is about, so the page can show it there and keep everything typed."""

from __future__ import annotations

from datetime import date
from functools import cache

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation

from marac.checklists import Checklist
from marac.domain import (
    CaseRole,
    ChecklistAnswer,
    Disability,
    EthnicGroup,
    Gender,
    SexualOrientation,
    TransHistory,
)
from marac.web.forms import enum_choices

MAX_PEOPLE = 12
NEW_PERSON = "new"

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
YES_NO_NOT_ASKED = [*YES_NO, SelectChoice("not_asked", "Not asked")]

OTHER_ROLES = [
    SelectChoice(CaseRole.PERPETRATOR.value, "Perpetrator"),
    SelectChoice(CaseRole.CHILD.value, "Child"),
    SelectChoice(CaseRole.OTHER_ADULT.value, "Other adult in the household"),
]
RELATIONSHIPS = [
    SelectChoice("none", "None recorded"),
    SelectChoice("partner", "Her partner"),
    SelectChoice("ex_partner", "Her ex-partner"),
    SelectChoice("her_child", "Her child"),
    SelectChoice("their_child", "Her child with the (first) perpetrator"),
    SelectChoice("his_child", "The (first) perpetrator's child, not hers"),
    SelectChoice("parent", "Her parent"),
    SelectChoice("sibling", "Her brother or sister"),
    SelectChoice("household", "Lives in her household"),
]


class PlainDateField(DateField):
    """A date field whose error says what to type."""

    def __init__(self, label: str, validators: list | None = None, **kwargs: object) -> None:
        super().__init__(label, validators, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Enter a real date, for example 1991-07-02.") from error


class CountField(IntegerField):
    """A whole number whose error says what to type."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Enter a whole number, for example 0 or 3.") from error


def length(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters.")


class PersonFields(Form):
    given_name = StringField("First name", validators=[Optional(), length(100)])
    family_name = StringField("Last name", validators=[Optional(), length(100)])
    date_of_birth = PlainDateField("Date of birth", validators=[Optional()])
    gender = SelectField("Gender", choices=enum_choices(Gender), default=Gender.NOT_KNOWN.value)
    aliases = StringField(
        "Other names used",
        validators=[Optional(), length(400)],
        description="Separate names with commas, for example: Kie Ash, Kieran Smith.",
    )
    # Equality monitoring: optional, and asked only when it is safe to ask.
    ethnic_group = SelectField(
        "Ethnic group", choices=enum_choices(EthnicGroup), default=EthnicGroup.NOT_KNOWN.value
    )
    sexual_orientation = SelectField(
        "Sexual orientation",
        choices=enum_choices(SexualOrientation),
        default=SexualOrientation.NOT_KNOWN.value,
    )
    trans_history = SelectField(
        "Is their gender the same as the sex they were registered at birth?",
        choices=enum_choices(TransHistory),
        default=TransHistory.NOT_KNOWN.value,
    )
    disability = SelectField(
        "Do they consider themselves disabled?",
        choices=enum_choices(Disability),
        default=Disability.NOT_KNOWN.value,
    )
    # The person picked from those offered, or "new"; choices are set per request from matching.
    match = RadioField("Is this someone already known?", choices=[], validate_choice=False)

    @property
    def named(self) -> bool:
        return bool((self.given_name.data or "").strip() or (self.family_name.data or "").strip())

    @property
    def touched(self) -> bool:
        return self.named or self.date_of_birth.data is not None or bool(self.aliases.data)

    def alias_list(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in (self.aliases.data or "").split(",") if a.strip())


class OtherPersonFields(PersonFields):
    role = SelectField("Role in the case", choices=OTHER_ROLES)
    relationship = SelectField("Relationship to the victim", choices=RELATIONSHIPS)
    separated_on = PlainDateField(
        "Separated on", validators=[Optional()], description="For an ex-partner, if known."
    )


class ReferralFormBase(FlaskForm):
    victim = FormField(PersonFields, label="The victim")
    people = FieldList(
        FormField(OtherPersonFields), min_entries=1, max_entries=MAX_PEOPLE, label="Person"
    )

    address = TextAreaField("Address", validators=[Optional(), length(500)])
    safe_phone = StringField("Safe phone number", validators=[Optional(), length(64)])
    safe_to_call = RadioField(
        "Is it safe to call her?", choices=YES_NO_NOT_ASKED, default="not_asked"
    )
    safe_times = StringField("Safe times to contact her", validators=[Optional(), length(200)])
    may_leave_message = RadioField(
        "May a message be left?", choices=YES_NO_NOT_ASKED, default="not_asked"
    )
    feared_people = TextAreaField("Who she fears", validators=[Optional(), length(2000)])
    safe_to_speak_to = TextAreaField(
        "Who is safe to speak to", validators=[Optional(), length(2000)]
    )
    not_safe_to_speak_to = TextAreaField(
        "Who is not safe to speak to", validators=[Optional(), length(2000)]
    )

    officer_name = StringField(
        "Referring officer",
        validators=[
            InputRequired("Enter the name of the person making the referral."),
            length(120),
        ],
    )
    officer_contact = StringField("Officer's phone or email", validators=[Optional(), length(200)])
    incident_on = PlainDateField(
        "Date of the latest incident",
        validators=[InputRequired("Enter the date of the latest incident.")],
    )
    police_callouts = CountField(
        "Police call-outs for domestic abuse in the last 12 months",
        validators=[
            InputRequired("Enter the number of call-outs, or 0 if there were none."),
            NumberRange(min=0, max=999, message="Enter a number from 0 to 999."),
        ],
    )
    professional_judgement = BooleanField("I am referring on professional judgement")
    judgement_reason = TextAreaField(
        "Why, in your professional judgement, she is at high risk",
        validators=[Optional(), length(4000)],
    )
    victim_aware = RadioField(
        "Does she know about this referral?",
        choices=YES_NO,
        validators=[InputRequired("Say whether she knows about this referral.")],
    )
    consent = RadioField(
        "Has she agreed to the referral and to information being shared?",
        choices=YES_NO,
        validators=[InputRequired("Say whether she has agreed.")],
    )
    no_consent_reason = TextAreaField(
        "Reason for sharing without her consent", validators=[Optional(), length(4000)]
    )

    def other_rows(self) -> list[OtherPersonFields]:
        return [entry.form for entry in self.people.entries]

    def rows(self) -> list[tuple[str, PersonFields]]:
        """Every person sub-form with its prefix (the id the page and fragments use)."""
        return [("victim", self.victim.form)] + [
            (entry.id, entry.form) for entry in self.people.entries
        ]

    def check_consistency(self, today: date) -> bool:
        """Checks across fields; each message goes on the field it is about."""
        ok = True
        victim = self.victim.form
        for field, message in (
            (victim.given_name, "Enter her first name."),
            (victim.family_name, "Enter her last name."),
        ):
            if not (field.data or "").strip():
                field.errors.append(message)
                ok = False
        perpetrators = 0
        for prefix, row in self.rows():
            if row.date_of_birth.data and row.date_of_birth.data > today:
                row.date_of_birth.errors.append("The date of birth cannot be in the future.")
                ok = False
            if prefix == "victim" or not row.touched:
                continue
            for field, message in (
                (row.given_name, "Enter a first name, or clear this person."),
                (row.family_name, "Enter a last name, or clear this person."),
            ):
                if not (field.data or "").strip():
                    field.errors.append(message)
                    ok = False
            if row.role.data == CaseRole.PERPETRATOR.value:
                perpetrators += 1
        if perpetrators == 0:
            self.people.entries[0].form.given_name.errors.append(
                "Name at least one perpetrator (choose the role Perpetrator)."
            )
            ok = False
        if self.incident_on.data and self.incident_on.data > today:
            self.incident_on.errors.append("The incident date cannot be in the future.")
            ok = False
        reason = (self.judgement_reason.data or "").strip()
        if self.professional_judgement.data and not reason:
            self.judgement_reason.errors.append("Say why, in your own words.")
            ok = False
        if reason and not self.professional_judgement.data:
            self.judgement_reason.errors.append(
                "Tick the professional judgement box above, or clear this reason."
            )
            ok = False
        if self.consent.data == "no" and not (self.no_consent_reason.data or "").strip():
            self.no_consent_reason.errors.append(
                "Record why information is being shared without her consent."
            )
            ok = False
        return ok


class AnswerField(RadioField):
    """One risk factor's answer: yes, no, don't know or not asked, and nothing else."""

    def pre_validate(self, form: Form) -> None:
        if not self.data:
            return  # InputRequired says what is missing
        if self.data not in {value for value, _label, *_ in self.iter_choices()}:
            raise StopValidation("Answer yes, no, don't know or not asked.")


@cache
def checklist_form(checklist: Checklist) -> type[Form]:
    fields = {
        factor.key: AnswerField(
            factor.question,
            choices=enum_choices(ChecklistAnswer),
            default=ChecklistAnswer.NOT_ASKED.value,
            validators=[InputRequired("Choose an answer for this risk factor.")],
        )
        for factor in checklist.factors
    }
    return type(f"ChecklistForm_{checklist.key.replace('-', '_')}", (Form,), fields)


@cache
def referral_form(checklist: Checklist) -> type[ReferralFormBase]:
    """The referral form for an area's checklist (the checklist's factors as radio groups)."""
    return type(
        f"ReferralForm_{checklist.key.replace('-', '_')}",
        (ReferralFormBase,),
        {"checklist": FormField(checklist_form(checklist), label=checklist.title)},
    )


def answers_from(form: ReferralFormBase, checklist: Checklist) -> dict[str, ChecklistAnswer]:
    """The answers as typed; anything that is not one of the four answers is "not asked"."""
    answers = {}
    sub = form.checklist.form  # type: ignore[attr-defined]
    for factor in checklist.factors:
        value = getattr(sub, factor.key).data
        try:
            answers[factor.key] = ChecklistAnswer(value)
        except ValueError:
            answers[factor.key] = ChecklistAnswer.NOT_ASKED
    return answers


def yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def callouts_typed(form: ReferralFormBase) -> int | None:
    """The call-out count as typed, for live feedback; None when it is not a number yet."""
    raw = (form.police_callouts.raw_data or [""])[0] if form.police_callouts.raw_data else ""
    try:
        value = int(str(raw).strip())
    except ValueError:
        return None
    return value if 0 <= value <= 999 else None
