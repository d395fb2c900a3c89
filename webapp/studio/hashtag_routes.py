"""Studio pages: saved hashtag groups (list, create, delete); the composer adds a group to a post."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user

from webapp.core.access import org_object_or_404, org_view
from webapp.core.htmx import render
from webapp.core.transaction import perform
from webapp.studio import bp
from webapp.studio.forms import HashtagGroupForm
from webapp.studio.models import HashtagGroup
from webapp.studio.services import versions


def _page(org, form=None, status=200):
    return render(
        "studio/hashtags.html",
        org=org,
        groups=versions.groups(org),
        form=form or HashtagGroupForm(formdata=None),
        status=status,
    )


@bp.get("/hashtags")
@org_view("studio")
def hashtag_groups(org):
    return _page(org)


@bp.post("/hashtags")
@org_view("studio")
def hashtag_group_create(org):
    form = HashtagGroupForm()
    if not form.validate_on_submit():
        return _page(org, form, status=422)
    return perform(
        lambda: versions.create_group(org, current_user.user, form.name.data, form.hashtags.data),
        then=url_for("studio.hashtag_groups", slug=org.slug),
        success=lambda group: f"Hashtag group “{group.name}” saved.",
        form=form,
        failed=lambda _: _page(org, form, status=422),
    )


@bp.post("/hashtags/<int:group_id>/delete")
@org_view("studio")
def hashtag_group_delete(org, group_id):
    group = org_object_or_404(HashtagGroup, org, group_id)
    return perform(
        lambda: versions.delete_group(org, current_user.user, group),
        then=url_for("studio.hashtag_groups", slug=org.slug),
        success="Hashtag group deleted.",
    )
