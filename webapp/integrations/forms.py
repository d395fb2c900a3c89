from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectChoice, SelectField, SelectMultipleField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


def _choices(*pairs):
    return [SelectChoice(value, label) for value, label in pairs]


DIRECTIONS = _choices(
    ("IMPORT", _l("Import from freee")),
    ("EXPORT", _l("Export to freee")),
    ("BIDIRECTIONAL", _l("Both ways (import, then export)")),
)
ENTITIES = _choices(("partners", _l("Partners")), ("invoices", _l("Invoices")), ("deals", _l("Deals")))
FREQUENCIES = _choices(("off", _l("Manual only")), ("hourly", _l("Every hour")), ("daily", _l("Every day")))
SYNC_TYPES = _choices(("incremental", _l("Changes since last sync")), ("full", _l("Full rescan")))


class FreeeSyncForm(FlaskForm):
    direction = SelectField(_l("Direction"), choices=DIRECTIONS, default="IMPORT")
    entity_types = SelectMultipleField(
        _l("What to sync"),
        choices=ENTITIES,
        default=["partners", "invoices", "deals"],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    full_sync = BooleanField(_l("Full sync (everything, not only changes)"), default=True)
    since_date = DateField(_l("Since"), validators=[Optional()], description=_l("Only records changed or issued since"))


EXPORT_AS = _choices(("invoices", _l("freee invoices (invoice API)")), ("deals", _l("Income deals (取引)")))


class ScheduleForm(FlaskForm):
    frequency = SelectField(_l("Scheduled sync"), choices=FREQUENCIES)
    # freee only: how Tessera's finalized invoices are exported. Absent from other providers' forms.
    export_as = SelectField(_l("Export Tessera invoices as"), choices=EXPORT_AS, validators=[Optional()])


class DriveSyncForm(FlaskForm):
    sync_type = SelectField(_l("Kind"), choices=SYNC_TYPES)


class LinkFileForm(FlaskForm):
    project_id = SelectField(_l("Project"), coerce=int, choices=[], validate_choice=False)
    task_id = SelectField(_l("Task"), coerce=int, choices=[], validate_choice=False)


class FolderForm(FlaskForm):
    # A Drive folder id ("" = the whole Drive). Checked with files.get before it is saved.
    folder_id = HiddenField(_l("Folder"), validators=[Optional(), Length(max=128)])


class ProjectFolderForm(FlaskForm):
    project_id = SelectField(_l("Project"), coerce=int, choices=[], validate_choice=False)
    folder_id = HiddenField(_l("Folder"), validators=[Optional(), Length(max=128)])
