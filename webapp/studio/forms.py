"""Studio forms. Per-platform validation lives in the services; errors come back onto these fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from webapp.studio.services.posts import TIKTOK_PRIVACY, YOUTUBE_PRIVACY


class UploadForm(FlaskForm):
    title = StringField("Title", validators=[Optional(), Length(max=200)])
    file = FileField("Video (.mp4 or .mov)", validators=[FileRequired("Choose a video file.")])


class RenameForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Give the video a title."), Length(max=200)])


class PostForm(FlaskForm):
    video_id = SelectField("Video", coerce=int, validate_choice=False)
    caption = TextAreaField("Caption", validators=[Length(max=5000)])
    hashtags = StringField(
        "Hashtags", description="Separated by spaces, with or without #", validators=[Length(max=2000)]
    )

    tiktok_account = SelectField("TikTok account", validate_choice=False)
    tiktok_privacy = SelectField(
        "Who can see this video",
        choices=[SelectChoice("", "Choose…")] + [SelectChoice(k, v) for k, v in TIKTOK_PRIVACY.items()],
        validate_choice=False,
        description="TikTok asks you to choose; there is no default.",
    )
    tiktok_allow_comment = BooleanField("Allow comments")
    tiktok_allow_duet = BooleanField("Allow Duet")
    tiktok_allow_stitch = BooleanField("Allow Stitch")
    tiktok_caption = TextAreaField("TikTok caption (leave empty to use the caption)", validators=[Length(max=5000)])
    tiktok_hashtags = StringField("TikTok hashtags (leave empty to use the hashtags)", validators=[Length(max=2000)])

    instagram_account = SelectField("Instagram account", validate_choice=False)
    instagram_caption = TextAreaField(
        "Instagram caption (leave empty to use the caption)", validators=[Length(max=5000)]
    )
    instagram_hashtags = StringField(
        "Instagram hashtags (leave empty to use the hashtags)", validators=[Length(max=2000)]
    )
    instagram_first_comment = TextAreaField(
        "First comment", description="Posted once, right after the Reel is published.", validators=[Length(max=5000)]
    )
    instagram_share_to_feed = BooleanField("Also show the Reel in the feed", default=True)

    youtube_account = SelectField("YouTube channel", validate_choice=False)
    youtube_title = StringField("YouTube title", validators=[Length(max=500)])
    youtube_description = TextAreaField(
        "YouTube description (leave empty to use the caption)", validators=[Length(max=10000)]
    )
    youtube_hashtags = StringField("YouTube hashtags (leave empty to use the hashtags)", validators=[Length(max=2000)])
    youtube_tags = StringField(
        "YouTube tags",
        description="Separated by commas; search tags, not shown on the video. Empty: the hashtags.",
        validators=[Length(max=2000)],
    )
    youtube_privacy = SelectField(
        "YouTube visibility", choices=[SelectChoice(p, p.title()) for p in YOUTUBE_PRIVACY], default="public"
    )

    hashtag_group = SelectField(
        "Add a hashtag group", validate_choice=False, description="Its hashtags are added to the shared ones."
    )

    schedule_date = DateField("Date", validators=[Optional()])
    schedule_time = TimeField("Time", validators=[Optional()])


class HashtagGroupForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the group a name."), Length(max=80)])
    hashtags = StringField(
        "Hashtags",
        description="Separated by spaces, with or without #",
        validators=[DataRequired("Add at least one hashtag."), Length(max=2000)],
    )


class RescheduleForm(FlaskForm):
    schedule_date = DateField("Date", validators=[DataRequired("Pick a date.")])
    schedule_time = TimeField("Time", validators=[DataRequired("Pick a time.")])


class MoveForm(FlaskForm):
    day = DateField("Day", validators=[DataRequired("Pick a day.")])


class ApproveForm(FlaskForm):
    """Approve as it is, or at a new time when its own has passed."""

    schedule_date = DateField("New date", validators=[Optional()])
    schedule_time = TimeField("New time", validators=[Optional()])


class RejectForm(FlaskForm):
    comment = TextAreaField(
        "What should change", validators=[DataRequired("Say what should change."), Length(max=2000)]
    )


class StudioSettingsForm(FlaskForm):
    approval_required = BooleanField("Posts by members need approval")


class QueueSlotForm(FlaskForm):
    weekday = SelectField(
        "Day",
        coerce=int,
        choices=[
            SelectChoice(i, d)
            for i, d in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
        ],
    )
    at = TimeField("Time", validators=[DataRequired("Pick a time.")])
    connection_id = SelectField("For", validate_choice=False, choices=[SelectChoice("", "Every account")])
