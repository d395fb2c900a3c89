from typing import Any

from flask import abort, flash, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import func, select

from webapp.core.access import org_object_or_404, org_view
from webapp.core.forms import EmptyForm
from webapp.core.htmx import redirect, render
from webapp.core.pagination import KeysetPage, keyset, paginate
from webapp.core.transaction import get_may_write, perform
from webapp.extensions import db
from webapp.integrations import bp, oauth, public_bp, services
from webapp.integrations import drive_files as drive_rules
from webapp.integrations.forms import (
    DriveSyncForm,
    FolderForm,
    FreeeSyncForm,
    LinkFileForm,
    ProjectFolderForm,
    ScheduleForm,
)
from webapp.integrations.freee_export import export_as
from webapp.integrations.models import (
    Connection,
    DriveFile,
    DriveSyncLog,
    FreeeDeal,
    FreeeInvoice,
    FreeePartner,
    FreeeSyncJob,
)
from webapp.jobs import progress_fragment

PROVIDER_LABELS = {"freee": "freee", "google_drive": "Google Drive"}


def _recent_runs(model, org, connection_id=None, limit=10):
    stmt = select(model).where(model.organization_id == org.id)
    if connection_id:
        stmt = stmt.where(model.connection_id == connection_id)
    return list(db.session.scalars(stmt.order_by(model.id.desc()).limit(limit)))


@bp.get("/")
@org_view("integrations")
def index(org):
    connections = services.connections_of(org)
    calls = list(db.session.scalars(services.calls_query(org.id).order_by(db.text("id DESC")).limit(15)))
    return render(
        "integrations/index.html",
        org=org,
        connections=connections,
        connected={c.provider for c in connections if c.is_connected},
        providers=PROVIDER_LABELS,
        page=KeysetPage(calls, None, 15),
        admin=False,
        button=EmptyForm(),
        schedule_form=ScheduleForm(),
    )


@bp.post("/<provider>/connect")
@org_view("integrations")
def connect(org, provider):
    if provider not in PROVIDER_LABELS:
        abort(404)
    back = url_for(".index", slug=org.slug)
    return perform(
        lambda: oauth.begin_authorization(provider, org, current_user, return_to=back), then=redirect, failed=back
    )


def _connection_page(org, connection, freee_form=None, status=200):
    counts: dict[str, Any] = {}
    if connection.provider == "freee":
        for label, model in (("partners", FreeePartner), ("deals", FreeeDeal), ("invoices", FreeeInvoice)):
            counts[label] = db.session.scalar(
                select(func.count()).select_from(model).where(model.connection_id == connection.id)
            )
        runs = _recent_runs(FreeeSyncJob, org, connection.id)
    else:
        counts["files"] = db.session.scalar(
            select(func.count()).select_from(DriveFile).where(DriveFile.connection_id == connection.id)
        )
        runs = _recent_runs(DriveSyncLog, org, connection.id)
        counts["project_folders"] = drive_rules.project_folders(connection)
    return render(
        "integrations/connection.html",
        block="runs",
        org=org,
        connection=connection,
        label=PROVIDER_LABELS.get(connection.provider, connection.provider),
        counts=counts,
        runs=runs,
        freee_form=freee_form or FreeeSyncForm(),
        drive_form=DriveSyncForm(),
        schedule_form=ScheduleForm(frequency=connection.sync_frequency, export_as=export_as(connection)),
        button=EmptyForm(),
        status=status,
    )


@bp.get("/connections/<int:connection_id>/")
@org_view("integrations")
def connection(org, connection_id):
    return _connection_page(org, org_object_or_404(Connection, org, connection_id))


def _back_to(conn):
    return url_for(".connection", slug=conn.organization.slug, connection_id=conn.id)


@bp.post("/connections/<int:connection_id>/sync")
@org_view("integrations")
def sync_now(org, connection_id):
    conn = org_object_or_404(Connection, org, connection_id)
    if not EmptyForm().validate_on_submit():
        return redirect(_back_to(conn))
    return perform(
        lambda: services.start_sync(conn, current_user.user), then=_back_to(conn), success=gettext("Sync started.")
    )


@bp.post("/connections/<int:connection_id>/freee-sync")
@org_view("integrations")
def freee_sync(org, connection_id):
    conn = org_object_or_404(Connection, org, connection_id)
    form = FreeeSyncForm()
    if not form.validate_on_submit():
        return _connection_page(org, conn, freee_form=form, status=422)
    return perform(
        lambda: services.start_freee_sync(
            conn,
            current_user.user,
            direction=form.direction.data,
            entity_types=form.entity_types.data,
            full_sync=form.full_sync.data,
            since_date=form.since_date.data,
        ),
        then=_back_to(conn),
        success=gettext("freee sync started."),
        form=form,
        failed=lambda _: _connection_page(org, conn, freee_form=form, status=422),
    )


@bp.post("/connections/<int:connection_id>/drive-sync")
@org_view("integrations")
def drive_sync(org, connection_id):
    conn = org_object_or_404(Connection, org, connection_id)
    form = DriveSyncForm()
    if not form.validate_on_submit():
        flash(gettext("Choose a full or an incremental sync."), "error")
        return redirect(_back_to(conn))
    return perform(
        lambda: services.start_drive_sync(conn, current_user.user, sync_type=form.sync_type.data),
        then=_back_to(conn),
        success=gettext("Sync started."),
    )


@bp.post("/connections/<int:connection_id>/schedule")
@org_view("integrations")
def schedule(org, connection_id):
    conn = org_object_or_404(Connection, org, connection_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        flash(gettext("Choose manual, hourly or daily."), "error")
        return redirect(_back_to(conn))

    def save():  # both settings in one transaction: a refusal of either saves neither
        if conn.provider == "freee" and form.export_as.data:
            services.set_freee_export_as(conn, current_user.user, form.export_as.data)
        services.set_sync_frequency(conn, current_user.user, form.frequency.data)

    return perform(save, then=_back_to(conn), success=gettext("Settings saved."))


@bp.post("/connections/<int:connection_id>/disconnect")
@org_view("integrations")
def disconnect(org, connection_id):
    conn = org_object_or_404(Connection, org, connection_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for(".index", slug=org.slug))
    label = PROVIDER_LABELS.get(conn.provider, conn.provider)
    return perform(
        lambda: services.disconnect(conn, current_user.user),
        then=url_for(".index", slug=org.slug),
        success=gettext("%(provider)s disconnected; its tokens were deleted.", provider=label),
        failed=_back_to(conn),
        retry=False,  # the provider is told to revoke the tokens once
    )


@bp.get("/freee-jobs/<int:freee_sync_job_id>/progress")
@org_view("integrations")
def freee_job_progress(org, freee_sync_job_id):
    run = org_object_or_404(FreeeSyncJob, org, freee_sync_job_id)
    url = url_for(".freee_job_progress", slug=org.slug, freee_sync_job_id=run.id)
    return progress_fragment(run, url, finished_event="integrations:sync-finished")


@bp.get("/drive-syncs/<int:drive_sync_log_id>/progress")
@org_view("integrations")
def drive_sync_progress(org, drive_sync_log_id):
    run = org_object_or_404(DriveSyncLog, org, drive_sync_log_id)
    url = url_for(".drive_sync_progress", slug=org.slug, drive_sync_log_id=run.id)
    return progress_fragment(run, url, finished_event="integrations:sync-finished")


@bp.get("/drive/files")
@org_view("integrations")
def drive_files(org):
    work = services.work_items()
    q = request.args.get("q", "")
    page = paginate(services.drive_files_query(org, q=q), request.args.get("page", 1, type=int), per_page=25)
    return render(
        "integrations/drive_files.html",
        block="files",
        org=org,
        page=page,
        q=q,
        projects=work.projects_of(org),
        tasks=work.tasks_of(org),
    )


@bp.post("/drive/files/<int:drive_file_id>/link")
@org_view("integrations")
def link_drive_file(org, drive_file_id):
    drive_file = org_object_or_404(DriveFile, org, drive_file_id)
    form = LinkFileForm()
    back = url_for(".drive_files", slug=org.slug, q=request.args.get("q") or None)
    if not form.validate_on_submit():
        flash(gettext("Choose a project or a task."), "error")
        return redirect(back)
    return perform(
        lambda: services.link_drive_file(
            drive_file, current_user.user, form.project_id.data or None, form.task_id.data or None
        ),
        then=back,
        success=f"{drive_file.file_name} linked.",
    )


@bp.get("/drive/files/<int:drive_file_id>/open")
@org_view("integrations")
def open_drive_file(org, drive_file_id):
    drive_file = org_object_or_404(DriveFile, org, drive_file_id)
    if not drive_file.web_view_link or not drive_file.web_view_link.startswith("https://"):
        abort(404)
    return redirect(drive_file.web_view_link)


# ----------------------------------------------------------------------------- Drive folders and file actions


def _drive_connection(org, connection_id):
    conn = org_object_or_404(Connection, org, connection_id)
    if conn.provider != "google_drive":
        abort(404)
    return conn


@bp.get("/connections/<int:connection_id>/folders")
@org_view("integrations")
def drive_folders(org, connection_id):
    conn = org_object_or_404(Connection, org, connection_id)
    if conn.provider != "google_drive":
        return redirect(_back_to(conn))  # only Drive has folders to choose
    listing = drive_rules.browse_folders(conn, request.args.get("parent"))
    return render(
        "integrations/drive_folders.html",
        org=org,
        connection=conn,
        listing=listing,
        projects=services.work_items().projects_of(org),
        project_folders=drive_rules.project_folders(conn),
        status=listing.get("status", 200),
    )


@bp.post("/connections/<int:connection_id>/folders/root")
@org_view("integrations")
def choose_root_folder(org, connection_id):
    conn = _drive_connection(org, connection_id)
    form = FolderForm()
    back = url_for(".drive_folders", slug=org.slug, connection_id=conn.id)
    if not form.validate_on_submit():
        flash(gettext("That is not a Drive folder id."), "error")
        return redirect(back)
    return perform(
        lambda: drive_rules.choose_root_folder(conn, current_user.user, form.folder_id.data or None),
        then=_back_to(conn),
        success=gettext("Folder saved: the next sync walks only that folder.")
        if form.folder_id.data
        else gettext("Syncing the whole Drive."),
        failed=back,
    )


@bp.post("/connections/<int:connection_id>/folders/project")
@org_view("integrations")
def choose_project_folder(org, connection_id):
    conn = _drive_connection(org, connection_id)
    form = ProjectFolderForm()
    back = url_for(".drive_folders", slug=org.slug, connection_id=conn.id)
    if not form.validate_on_submit():
        flash(gettext("Choose a project and a folder."), "error")
        return redirect(back)
    return perform(
        lambda: drive_rules.set_project_folder(conn, current_user.user, form.project_id.data, form.folder_id.data),
        then=_back_to(conn),
        success=gettext("Project folder saved.") if form.folder_id.data else gettext("Project folder removed."),
        failed=back,
    )


def _listed_file(org, drive_file_id):
    drive_file = org_object_or_404(DriveFile, org, drive_file_id)
    if drive_file.unlinked_at is not None:
        abort(404)
    return drive_file


@bp.post("/drive/files/<int:drive_file_id>/sync")
@org_view("integrations")
def sync_drive_file(org, drive_file_id):
    drive_file = _listed_file(org, drive_file_id)
    name = drive_file.file_name
    back = url_for(".drive_files", slug=org.slug, q=request.args.get("q") or None)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    return perform(
        lambda: drive_rules.sync_file(drive_file, current_user.user),
        then=back,
        success=lambda result: f"{name} is up to date." if result == "updated" else f"{name} is no longer in Drive.",
        retry=False,
    )


@bp.get("/drive/files/<int:drive_file_id>/delete")
@org_view("integrations")
def confirm_remove_drive_file(org, drive_file_id):
    drive_file = _listed_file(org, drive_file_id)
    return render("integrations/drive_file_remove.html", org=org, f=drive_file, button=EmptyForm())


@bp.post("/drive/files/<int:drive_file_id>/unlink")
@org_view("integrations")
def unlink_drive_file(org, drive_file_id):
    drive_file = _listed_file(org, drive_file_id)
    back = url_for(".drive_files", slug=org.slug)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    return perform(
        lambda: drive_rules.unlink(drive_file, current_user.user),
        then=back,
        success=f"{drive_file.file_name} was unlinked from Tessera; it is still in Google Drive.",
    )


@bp.post("/drive/files/<int:drive_file_id>/trash")
@org_view("integrations")
def trash_drive_file(org, drive_file_id):
    drive_file = _listed_file(org, drive_file_id)
    name = drive_file.file_name
    back = url_for(".drive_files", slug=org.slug)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    return perform(
        lambda: drive_rules.trash(drive_file, current_user.user),
        then=back,
        success=f"{name} was moved to the Google Drive trash and removed from Tessera.",
        failed=url_for(".confirm_remove_drive_file", slug=org.slug, drive_file_id=drive_file_id),
        retry=False,
    )


@bp.get("/drive/files/<int:drive_file_id>/cached")
@org_view("integrations")
@get_may_write("an expired cached copy is fetched again from Drive before it is served")
def open_cached_drive_file(org, drive_file_id):
    from webapp.files.services import download_url

    drive_file = _listed_file(org, drive_file_id)
    if drive_file.task_id is None or not drive_rules.can_cache(drive_file):
        flash(gettext("Only a file attached to a task has a cached copy; open it at Google."), "error")
        return redirect(url_for(".drive_files", slug=org.slug))
    return perform(
        lambda: drive_rules.cached_copy(drive_file, current_user.user),
        then=lambda upload: redirect(download_url(org, upload)),
        failed=url_for(".drive_files", slug=org.slug),
        retry=False,
    )


@bp.get("/calls")
@org_view("integrations")
def calls(org):
    args = request.args
    stmt = services.calls_query(org.id, args.get("provider") or None, args.get("success"), args.get("action") or None)
    from webapp.integrations.models import OutboundCall

    page = keyset(stmt, OutboundCall.id, args.get("before", type=int), per_page=50)
    return render("integrations/calls.html", block="calls", org=org, page=page, filters=args, admin=False)


# ----------------------------------------------------------------------------- OAuth callback


@public_bp.get("/oauth/<provider>/callback")
@login_required
@get_may_write("the provider sends the person back with a GET: the connection and its tokens are stored")
def oauth_callback(provider):
    def problem(error):
        pending = oauth.pending_state(provider, request.args.get("state"))
        back = pending.return_to if pending is not None and pending.user_id == current_user.id else None
        return render(
            "integrations/oauth_problem.html",
            message=error.message,
            label=PROVIDER_LABELS.get(provider, provider.replace("_", " ").title()),
            back=back if back and back.startswith("/") else url_for("orgs.home"),
            status=400,
        )

    # retry=False: the authorization code is exchanged once (a provider refuses a second use).
    return perform(
        lambda: oauth.complete_authorization(provider, request.args, current_user),
        then=lambda connection: redirect(oauth.landing_url(connection)),
        success=lambda connection: f"{PROVIDER_LABELS.get(provider, provider)} connected: {connection.account_name}.",
        failed=problem,
        retry=False,
    )
