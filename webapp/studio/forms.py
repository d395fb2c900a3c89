"""Studio forms. Per-platform validation lives in the services; errors come back onto these fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from webapp.studio.services.posts import TIKTOK_PRIVACY, YOUTUBE_PRIVACY


class UploadForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    file = FileField(_l("Video (.mp4 or .mov)"), validators=[FileRequired("Choose a video file.")])


class RenameForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired("Give the video a title."), Length(max=200)])


class PostForm(FlaskForm):
    video_id = SelectField(_l("Video"), coerce=int, validate_choice=False)
    caption = TextAreaField(_l("Caption"), validators=[Length(max=5000)])
    hashtags = StringField(
        _l("Hashtags"), description=_l("Separated by spaces, with or without #"), validators=[Length(max=2000)]
    )

    tiktok_account = SelectField(_l("TikTok account"), validate_choice=False)
    tiktok_privacy = SelectField(
        _l("Who can see this video"),
        choices=[SelectChoice("", _l("Choose…"))] + [SelectChoice(k, v) for k, v in TIKTOK_PRIVACY.items()],
        validate_choice=False,
        description=_l("TikTok asks you to choose; there is no default."),
    )
    tiktok_allow_comment = BooleanField(_l("Allow comments"))
    tiktok_allow_duet = BooleanField(_l("Allow Duet"))
    tiktok_allow_stitch = BooleanField(_l("Allow Stitch"))
    tiktok_caption = TextAreaField(_l("TikTok caption (leave empty to use the caption)"), validators=[Length(max=5000)])
    tiktok_hashtags = StringField(
        _l("TikTok hashtags (leave empty to use the hashtags)"), validators=[Length(max=2000)]
    )

    instagram_account = SelectField(_l("Instagram account"), validate_choice=False)
    instagram_caption = TextAreaField(
        _l("Instagram caption (leave empty to use the caption)"), validators=[Length(max=5000)]
    )
    instagram_hashtags = StringField(
        _l("Instagram hashtags (leave empty to use the hashtags)"), validators=[Length(max=2000)]
    )
    instagram_first_comment = TextAreaField(
        _l("First comment"),
        description=_l("Posted once, right after the Reel is published."),
        validators=[Length(max=5000)],
    )
    instagram_share_to_feed = BooleanField(_l("Also show the Reel in the feed"), default=True)

    youtube_account = SelectField(_l("YouTube channel"), validate_choice=False)
    youtube_title = StringField(_l("YouTube title"), validators=[Length(max=500)])
    youtube_description = TextAreaField(
        _l("YouTube description (leave empty to use the caption)"), validators=[Length(max=10000)]
    )
    youtube_hashtags = StringField(
        _l("YouTube hashtags (leave empty to use the hashtags)"), validators=[Length(max=2000)]
    )
    youtube_tags = StringField(
        _l("YouTube tags"),
        description=_l("Separated by commas; search tags, not shown on the video. Empty: the hashtags."),
        validators=[Length(max=2000)],
    )
    youtube_privacy = SelectField(
        _l("YouTube visibility"), choices=[SelectChoice(p, _l(p.title())) for p in YOUTUBE_PRIVACY], default="public"
    )

    hashtag_group = SelectField(
        _l("Add a hashtag group"), validate_choice=False, description=_l("Its hashtags are added to the shared ones.")
    )

    schedule_date = DateField(_l("Date"), validators=[Optional()])
    schedule_time = TimeField(_l("Time"), validators=[Optional()])


class HashtagGroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired("Give the group a name."), Length(max=80)])
    hashtags = StringField(
        _l("Hashtags"),
        description=_l("Separated by spaces, with or without #"),
        validators=[DataRequired("Add at least one hashtag."), Length(max=2000)],
    )


class RescheduleForm(FlaskForm):
    schedule_date = DateField(_l("Date"), validators=[DataRequired("Pick a date.")])
    schedule_time = TimeField(_l("Time"), validators=[DataRequired("Pick a time.")])


class MoveForm(FlaskForm):
    day = DateField(_l("Day"), validators=[DataRequired("Pick a day.")])


class ApproveForm(FlaskForm):
    """Approve as it is, or at a new time when its own has passed."""

    schedule_date = DateField(_l("New date"), validators=[Optional()])
    schedule_time = TimeField(_l("New time"), validators=[Optional()])


class RejectForm(FlaskForm):
    comment = TextAreaField(
        _l("What should change"), validators=[DataRequired("Say what should change."), Length(max=2000)]
    )


class StudioSettingsForm(FlaskForm):
    approval_required = BooleanField(_l("Posts by members need approval"))


class QueueSlotForm(FlaskForm):
    weekday = SelectField(
        _l("Day"),
        coerce=int,
        choices=[
            SelectChoice(i, _l(d))
            for i, d in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
        ],
    )
    at = TimeField(_l("Time"), validators=[DataRequired("Pick a time.")])
    connection_id = SelectField(_l("For"), validate_choice=False, choices=[SelectChoice("", _l("Every account"))])
