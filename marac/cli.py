"""Command line: ``marac demo`` for a new user, and the commands a deployment needs.

``marac`` is Flask's own command group for this app, so ``marac db upgrade``, ``marac routes`` and
``marac shell`` work too. The same commands are available as ``flask --app marac ...``.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from datetime import date
from pathlib import Path

import click
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from marac import MIGRATIONS_DIR, audit, clock, matching, sealing, seeding, twofactor
from marac import backup as backups
from marac.domain import Role
from marac.extensions import db
from marac.models import Agency, Case, PartnerContactRecord, SignInState, User
from marac.services import accounts, reminders, retention

DEMO_PASSWORD_FILE = "demo_password"  # noqa: S105 - a file name, not a password


def migrate_to_current() -> None:
    """Bring the database to the current schema (creating it if it is empty)."""
    upgrade(directory=MIGRATIONS_DIR)


def demo_password(instance_path: Path) -> tuple[str, bool]:
    """The instance's demo password, created on first use. Returns (password, newly created)."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / DEMO_PASSWORD_FILE
    if path.exists():
        return path.read_text().strip(), False
    password = "-".join(secrets.token_hex(3) for _ in range(3))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password)
    return password, True


def seed_demo_data() -> tuple[list[seeding.DemoLogin], str]:
    password, fresh = demo_password(Path(current_app.instance_path))
    logins = seeding.load_demo(db.session, accounts.hash_password(password), reset_passwords=fresh)
    # So that the administrator's outbox shows what reminders look like.
    reminders.queue_reminders(db.session, current_app.config["MARAC_BASE_URL"])
    db.session.commit()
    return logins, password


def print_logins(logins: list[seeding.DemoLogin], password: str) -> None:
    click.echo("Demo logins (synthetic data only), all with the password: " + password)
    click.echo(
        "Each sign-in also needs a code, as from an authenticator app: in another terminal run"
    )
    click.echo("  marac demo-code USERNAME")
    width = max(len(login.username) for login in logins)
    shown_roles: set[Role] = set()
    for login in logins:
        first = "" if login.role in shown_roles else "  <- " + login.role.label
        shown_roles.add(login.role)
        click.echo(f"  {login.username:<{width}}  {login.display_name} ({login.agency}){first}")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema."""
    migrate_to_current()
    click.echo("Database is at the current schema.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the synthetic demo data (safe to run again: adds nothing twice)."""
    migrate_to_current()
    logins, password = seed_demo_data()
    print_logins(logins, password)


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="The person's full name.")
@click.option("--agency-id", type=int, required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@with_appcontext
def create_user_command(username: str, display_name: str, agency_id: int, role: str) -> None:
    """Create an account (the first administrator of a new deployment, for example)."""
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise click.UsageError(f"There is no agency with id {agency_id}.")
    username = username.strip().lower()
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise click.UsageError(f"The username {username} is taken.")
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = accounts.password_problem(password)
    if problem:
        raise click.UsageError(problem)
    user = User(
        username=username,
        display_name=display_name,
        agency_id=agency.id,
        role=Role(role),
        password_hash=accounts.hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        object_type="user",
        object_id=user.id,
        detail=f"{username}: {user.role.label} (from the command line)",
    )
    db.session.commit()
    click.echo(f"Created {username}.")


@click.command("rebuild-match-keys")
@with_appcontext
def rebuild_match_keys_command() -> None:
    """Rebuild every person's match keys (after the matching rules or nickname table change)."""
    matching.rebuild_all(db.session.connection())
    db.session.commit()
    click.echo("Match keys rebuilt.")


@click.command("queue-reminders")
@with_appcontext
def queue_reminders_command() -> None:
    """Queue one reminder email per user with actions due or overdue (once a day)."""
    queued = reminders.queue_reminders(db.session, current_app.config["MARAC_BASE_URL"])
    db.session.commit()
    click.echo(f"Queued {queued} reminder{'' if queued == 1 else 's'}.")


@click.command("send-email")
@with_appcontext
def send_email_command() -> None:
    """Deliver queued emails over SMTP (MARAC_SMTP_HOST); without a server they stay queued."""
    result = reminders.send_queued(db.session, current_app.config)
    db.session.commit()
    if not result.configured:
        click.echo(
            f"No SMTP server is configured (MARAC_SMTP_HOST): {result.waiting} "
            "message(s) stay queued in the outbox."
        )
        return
    click.echo(f"Sent {result.sent}, failed {result.failed}.")


@click.command("demo-code")
@click.argument("username")
@with_appcontext
def demo_code_command(username: str) -> None:
    """Show a demo user's current sign-in code (demo instances and demo users only)."""
    if not (Path(current_app.instance_path) / DEMO_PASSWORD_FILE).exists():
        raise click.UsageError("This is not a demo instance: codes come from each user's app.")
    demo_users = {spec["username"] for spec in seeding.read_demo()["users"]}
    username = username.strip().lower()
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if username not in demo_users or user is None or user.sign_in is None:
        raise click.UsageError(f"{username} is not a demo user.")
    if not user.sign_in.enrolled or user.sign_in.totp_secret is None:
        raise click.UsageError(f"{username} has no second factor set up.")
    now = clock.utc_now()
    step = twofactor.step_at(now)
    if user.sign_in.totp_last_step is not None and user.sign_in.totp_last_step >= step:
        # Each code works once: the next one is valid already (a phone's clock may run ahead).
        step += 1
    seconds = (step + 1) * twofactor.STEP_SECONDS - int(now.timestamp())
    click.echo(
        f"{twofactor.code_for_step(user.sign_in.totp_secret, step)}  "
        f"(for {username}; valid for about {seconds} seconds)"
    )


@click.command("audit-verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check the audit trail's hash chain: exit 1 if any entry was edited, deleted or cut off."""
    result = audit.verify_chain(db.session)
    if result.ok:
        click.echo(f"Audit trail intact: {result.checked} entries, last hash {result.head_hash}.")
        click.echo(
            "Keep that hash somewhere else: it lets a later check prove nothing was rewritten."
        )
        return
    problems = result.problems or []
    click.echo(
        f"AUDIT TRAIL BROKEN: {len(problems)} problem(s) in {result.checked} entries.", err=True
    )
    for problem in problems[:50]:
        click.echo(f"  {problem}", err=True)
    if len(problems) > 50:
        click.echo(f"  ... and {len(problems) - 50} more", err=True)
    sys.exit(1)


@click.command("new-data-key")
def new_data_key_command() -> None:
    """Print a new data key, for rotating MARAC_DATA_KEY (docs/security.md)."""
    click.echo(Fernet.generate_key().decode())


@click.command("reseal-secrets")
@with_appcontext
def reseal_secrets_command() -> None:
    """Seal every stored second-factor secret again with the current data key.

    Run once the new key is MARAC_DATA_KEY and the old one is in MARAC_DATA_KEY_PREVIOUS on every
    machine; afterwards the old key can be dropped. Exits 1 if any secret opens with no key.
    """
    resealed, unopened = 0, []
    for state in db.session.scalars(
        sa.select(SignInState).where(SignInState.totp_secret_sealed.is_not(None))
    ):
        try:
            state.totp_secret_sealed = sealing.reseal(state.totp_secret_sealed)
        except sealing.SealBroken:
            unopened.append(state.user_id)
            continue
        resealed += 1
    audit.record(
        "data_key.resealed",
        detail=(
            f"{resealed} second-factor secrets sealed again with the current data key; "
            f"{len(unopened)} could not be opened with any key"
            + (f" (users {', '.join(map(str, unopened))})" if unopened else "")
        ),
    )
    db.session.commit()
    click.echo(f"{resealed} second-factor secrets sealed again with the current data key.")
    if unopened:
        click.echo(
            f"{len(unopened)} could not be opened with the current or a previous key (user ids "
            f"{', '.join(map(str, unopened))}): reset those people's second factor.",
            err=True,
        )
        sys.exit(1)
    click.echo("MARAC_DATA_KEY_PREVIOUS can now be removed from every machine.")


def _retention_years() -> int:
    years = int(current_app.config["MARAC_RETENTION_YEARS"])
    if years < 1:
        raise click.UsageError("MARAC_RETENTION_YEARS must be at least 1.")
    return years


@click.command("retention-due")
@with_appcontext
def retention_due_command() -> None:
    """List closed cases past the retention period, for review before deletion."""
    years = _retention_years()
    today = clock.service_today()
    cases = retention.due_cases(db.session, today, years)
    cutoff = retention.retention_cutoff(today, years)
    click.echo(
        f"Retention: {years} years after closing. Closed on or before {cutoff.isoformat()}: "
        f"{len(cases)} case{'' if len(cases) == 1 else 's'}."
    )
    for case in cases:
        click.echo(
            f"  {case.reference}  referred {case.referred_on.isoformat()}  "
            f"closed {case.closed_on.isoformat()}"
        )
    records = retention.due_pc_records(db.session, today, years)
    click.echo(
        f"Partner-contact records closed on or before {cutoff.isoformat()}: {len(records)} "
        f"record{'' if len(records) == 1 else 's'}."
    )
    for record in records:
        click.echo(
            f"  record {record.id}  {record.agency.name}  started {record.started_on.isoformat()}  "
            f"closed {record.closed_on.isoformat()}"
        )
    audit.record(
        "retention.review",
        detail=(
            f"{len(cases)} cases and {len(records)} partner-contact records past {years} years "
            "listed"
        ),
    )
    db.session.commit()


@click.command("retention-delete")
@click.argument("references", nargs=-1)
@click.option(
    "--all-due", is_flag=True, help="Every case and partner-contact record retention-due lists."
)
@click.option(
    "--pc-record",
    "pc_records",
    type=int,
    multiple=True,
    help="A partner-contact record past retention, by number (repeat for several).",
)
@click.option(
    "--confirm",
    is_flag=True,
    help="Really delete. Without it nothing is deleted: the command says what would be.",
)
@with_appcontext
def retention_delete_command(
    references: tuple[str, ...], all_due: bool, pc_records: tuple[int, ...], confirm: bool
) -> None:
    """Delete closed cases and partner-contact records past retention, and the people only in
    them; a case leaves a tombstone, each deletion an audit entry.

    Dry run unless --confirm is given. Name the cases by reference and the records with
    --pc-record, or give --all-due.
    """
    years = _retention_years()
    today = clock.service_today()
    if all_due == bool(references or pc_records):
        raise click.UsageError(
            "Name the cases by reference (or records with --pc-record), or give --all-due "
            "(not both)."
        )
    records = _pc_records_to_delete(today, years, all_due, pc_records)
    if all_due:
        cases = retention.due_cases(db.session, today, years)
    else:
        cases = []
        for reference in references:
            case = db.session.scalar(sa.select(Case).where(Case.reference == reference.strip()))
            if case is None:
                raise click.UsageError(f"There is no case {reference}.")
            if not retention.is_due(case, today, years):
                raise click.UsageError(
                    f"{case.reference} is not past retention: only cases closed on or before "
                    f"{retention.retention_cutoff(today, years).isoformat()} can be deleted."
                )
            cases.append(case)
    ids = [case.id for case in cases]
    for case_id in ids:
        case = db.session.get(Case, case_id)
        _finish_deletion(retention.delete_case(db.session, case, years), confirm)
    record_ids = [record.id for record in records]
    for record_id in record_ids:
        record = db.session.get(PartnerContactRecord, record_id)
        if record is None:
            # Deleted above with the person it belonged to, who was only in a deleted case.
            click.echo(f"Partner-contact record {record_id} went with a case above.")
            continue
        _finish_deletion(retention.delete_pc_record(db.session, record, years), confirm)
    if not cases and not records:
        click.echo("Nothing to delete.")
    elif not confirm:
        click.echo("Dry run: nothing was deleted. Add --confirm to delete.")


def _finish_deletion(deletion: retention.Deletion, confirm: bool) -> None:
    """Say what one deletion removed (or would), then commit it or, for a dry run, roll back."""
    click.echo(
        f"{'Deleted' if confirm else 'Would delete'} {deletion.reference}: "
        f"{sum(deletion.counts.values())} rows, {deletion.people_deleted} people "
        f"({deletion.people_kept} kept: in other records)"
    )
    for name, count in sorted(deletion.counts.items()):
        click.echo(f"    {name}: {count}")
    if confirm:
        db.session.commit()
    else:
        db.session.rollback()


def _pc_records_to_delete(
    today: date, years: int, all_due: bool, numbers: tuple[int, ...]
) -> list[PartnerContactRecord]:
    if all_due:
        return retention.due_pc_records(db.session, today, years)
    records = []
    for number in numbers:
        record = db.session.get(PartnerContactRecord, number)
        if record is None:
            raise click.UsageError(f"There is no partner-contact record {number}.")
        if not retention.is_pc_record_due(record, today, years):
            raise click.UsageError(
                f"Partner-contact record {number} is not past retention: only records closed on "
                f"or before {retention.retention_cutoff(today, years).isoformat()} can be "
                "deleted."
            )
        records.append(record)
    return records


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Copy the SQLite database to a new file PATH while the service runs (consistent)."""
    try:
        copied = backups.backup(backups.sqlite_path(db.engine), path)
    except backups.BackupError as problem:
        raise click.ClickException(str(problem)) from problem
    click.echo(f"Backed up to {copied.path}: {copied.tables} tables, {copied.rows} rows.")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Overwrite the database that is there (stop the service first).",
)
@with_appcontext
def restore_command(path: Path, replace: bool) -> None:
    """Restore the SQLite database from a backup made by `marac backup`, then check it."""
    try:
        target = backups.sqlite_path(db.engine)
        db.session.remove()
        db.engine.dispose()
        copied = backups.restore(path, target, replace=replace)
    except backups.BackupError as problem:
        raise click.ClickException(str(problem)) from problem
    click.echo(f"Restored {copied.path}: {copied.tables} tables, {copied.rows} rows; integrity ok.")
    result = audit.verify_chain(db.session)
    if not result.ok:
        click.echo(
            f"AUDIT TRAIL BROKEN in the restored database: {len(result.problems or [])} "
            "problem(s); run marac audit-verify for the list.",
            err=True,
        )
        sys.exit(1)
    click.echo(f"Audit trail intact: {result.checked} entries, last hash {result.head_hash}.")


def register_commands(app: Flask) -> None:
    for command in (
        init_db_command,
        seed_demo_command,
        create_user_command,
        rebuild_match_keys_command,
        queue_reminders_command,
        send_email_command,
        demo_code_command,
        audit_verify_command,
        new_data_key_command,
        reseal_secrets_command,
        retention_due_command,
        retention_delete_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int)
def demo_command(host: str, port: int) -> None:
    """Set up the demo (SQLite in the instance folder, synthetic data) and serve it."""
    from werkzeug.serving import run_simple

    from marac import create_app

    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo("The demo serves plain HTTP: it listens on this computer only.", err=True)
        sys.exit(2)
    # Plain HTTP on the loopback interface: cookies cannot be marked Secure, HSTS makes no sense.
    app = create_app(
        {"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False, "MARAC_HSTS": False}
    )
    with app.app_context():
        migrate_to_current()
        logins, password = seed_demo_data()
        database = db.engine.url.render_as_string(hide_password=True)
    if not _port_is_free(host, port):
        with socket.socket() as probe:
            probe.bind((host, 0))
            free = probe.getsockname()[1]
        click.echo(f"Port {port} is in use; using {free} instead.")
        port = free
    click.echo("")
    click.echo(f"marac demo, database {database}")
    print_logins(logins, password)
    click.echo("")
    click.echo(f"Open http://{host}:{port}/ in your browser. Press Ctrl+C to stop.")
    sys.stdout.flush()
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


def _create_app_for_cli() -> Flask:
    from marac import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app_for_cli, help="marac: MARAC coordination service.")
main.add_command(demo_command)
