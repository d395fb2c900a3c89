"""Avatars and logos through their routes: real pictures made with Pillow are decoded, cropped to a
square, resized and stored as PNG without metadata, counted in storage, shown where people look
(header, member lists, switcher, invoice page and PDF) and served only to those who may see them."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from tests.billing.helpers import make_invoice
from tests.factories import add_member, make_org, make_user
from webapp.core.errors import DomainError
from webapp.extensions import db
from webapp.files import services as files
from webapp.files.branding import personal_organization
from webapp.files.images import MAX_SIDE, Crop, crop_box
from webapp.files.models import FileUpload, StorageUsage
from webapp.orgs.models import Organization
from webapp.storage import storage


def picture(width=300, height=200, fmt="JPEG", color="red", exif=False) -> bytes:
    image = Image.new("RGB", (width, height), color)
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x0131] = "GPS-Leaky 1.0"  # Software
        image.save(out, fmt, exif=data)
    else:
        image.save(out, fmt)
    return out.getvalue()


def halves(width=300, height=200) -> bytes:
    """Left half red, right half blue: the crop decides which colour is kept."""
    image = Image.new("RGB", (width, height), "red")
    image.paste(Image.new("RGB", (width // 2, height), "blue"), (width // 2, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _post_avatar(client, data: bytes, name="me.jpg", **crop):
    fields = {"avatar-file": (io.BytesIO(data), name)}
    fields.update({f"avatar-crop_{k}": str(v) for k, v in crop.items()})
    return client.post("/account/avatar", fields, content_type="multipart/form-data")


def _post_logo(client, org, data: bytes, name="logo.png", **crop):
    fields = {"file": (io.BytesIO(data), name)}
    fields.update({f"crop_{k}": str(v) for k, v in crop.items()})
    return client.post(f"/o/{org.slug}/files/logo", fields, content_type="multipart/form-data")


def _stored(upload_id) -> Image.Image:
    upload = db.session.get(FileUpload, upload_id)
    with storage().open(upload.storage_key) as fh:
        return Image.open(io.BytesIO(fh.read()))


@pytest.fixture
def people(ctx):
    owner = make_user("owner@pics.example", name="Penny Owner")
    org = make_org(owner, "Pics Co", "pics-co")
    admin = make_user("admin@pics.example", name="Adam Admin")
    add_member(org, admin, "ADMIN")
    member = make_user("member@pics.example", name="Mia Member")
    add_member(org, member, "MEMBER")
    stranger = make_user("stranger@else.example", name="Sam Stranger")
    make_org(stranger, "Else Co", "else-co")
    return {"owner": owner, "org": org, "admin": admin, "member": member, "stranger": stranger}


def test_crop_maths_centred_chosen_and_refused():
    assert crop_box(300, 200) == (50, 0, 250, 200)
    assert crop_box(200, 300) == (0, 50, 200, 250)
    assert crop_box(301, 200) == (50, 0, 250, 200)  # odd margins round down
    assert crop_box(300, 200, Crop(100, 0, 200)) == (100, 0, 300, 200)  # exactly to the edge
    for bad in (Crop(101, 0, 200), Crop(0, 1, 200), Crop(-1, 0, 50), Crop(0, 0, 8)):
        with pytest.raises(DomainError):
            crop_box(300, 200, bad)


def test_avatar_upload_is_a_clean_square_png_counted_in_personal_storage_and_shown(people, client, make_client):
    owner = people["owner"]
    client.login(owner.email)
    response = _post_avatar(client, picture(300, 200, exif=True))
    assert response.status_code == 303
    db.session.expire_all()
    owner = db.session.get(type(owner), owner.id)
    upload = db.session.get(FileUpload, owner.avatar_file_id)
    personal = personal_organization(owner)
    assert (upload.file_type, upload.mime_type, upload.organization_id) == ("USER_AVATAR", "image/png", personal.id)
    stored = _stored(upload.id)
    assert stored.format == "PNG" and stored.size == (256, 256)
    assert not stored.getexif() and "exif" not in stored.info
    with storage().open(upload.storage_key) as fh:
        raw = fh.read()
    assert b"SecretCam" not in raw and b"GPS-Leaky" not in raw
    usage = db.session.scalar(
        select(StorageUsage).where(StorageUsage.organization_id == personal.id, StorageUsage.category == "user_avatars")
    )
    assert (usage.bytes_used, usage.file_count) == (upload.size, 1) and files.bytes_used(personal) == upload.size

    url = f"/pictures/users/{owner.id}/{upload.id}.png"
    page = client.get("/account/").get_data(as_text=True)
    assert url in page  # the header and the account page
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data == raw
    assert "private" in served.headers["Cache-Control"] and "max-age=86400" in served.headers["Cache-Control"]
    assert client.get(url, headers={"If-None-Match": served.headers["ETag"]}).status_code == 304
    # a member of the same organization sees it in the member list; a stranger gets 404
    admin = make_client()
    admin.login("admin@pics.example")
    assert url in admin.get(f"/o/{people['org'].slug}/members").get_data(as_text=True)
    assert admin.get(url).status_code == 200
    stranger = make_client()
    stranger.login("stranger@else.example")
    assert stranger.get(url).status_code == 404
    assert make_client().get(url).status_code in (302, 401)  # signed out: to the login page


def test_replacing_and_removing_an_avatar_frees_the_old_file(people, client):
    owner = people["owner"]
    client.login(owner.email)
    _post_avatar(client, picture(color="red"))
    first = db.session.scalar(select(FileUpload).where(FileUpload.file_type == "USER_AVATAR"))
    first_key = first.storage_key
    assert _post_avatar(client, picture(color="green", fmt="PNG"), "me.png").status_code == 303
    db.session.expire_all()
    user = db.session.get(type(owner), owner.id)
    assert user.avatar_file_id != first.id
    assert db.session.get(FileUpload, first.id).deleted_at is not None and not storage().exists(first_key)
    personal = personal_organization(user)
    current = db.session.get(FileUpload, user.avatar_file_id)
    assert files.bytes_used(personal) == current.size
    assert client.get(f"/pictures/users/{owner.id}/{first.id}.png").status_code == 404  # the old URL is gone
    assert client.post("/account/avatar/remove").status_code == 303
    db.session.expire_all()
    user = db.session.get(type(owner), owner.id)
    assert user.avatar_file_id is None and files.bytes_used(personal) == 0
    page = client.get("/account/").get_data(as_text=True)
    assert 'avatar-initials" aria-hidden="true" data-size="28" data-initials="PO">' in page  # the initials instead
    refused = client.post("/account/avatar/remove", follow_redirects=True)
    assert "no picture to remove" in refused.get_data(as_text=True)


def test_the_chosen_crop_square_is_kept(people, client):
    client.login(people["owner"].email)
    assert _post_avatar(client, halves(), "halves.png", x=150, y=0, size=150).status_code == 303
    db.session.expire_all()
    upload = db.session.scalar(select(FileUpload).where(FileUpload.file_type == "USER_AVATAR"))
    kept = _stored(upload.id).convert("RGB")
    assert kept.getpixel((5, 5)) == (0, 0, 255) and kept.getpixel((250, 250)) == (0, 0, 255)
    past_edge = _post_avatar(client, halves(), "halves.png", x=200, y=0, size=150)
    assert past_edge.status_code == 422 and "goes past the picture" in past_edge.get_data(as_text=True)
    partial = _post_avatar(client, halves(), "halves.png", x=10)
    assert partial.status_code == 422 and "leave all three empty" in partial.get_data(as_text=True)
    assert db.session.scalar(select(FileUpload).where(FileUpload.id != upload.id)) is None


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (9_000, 9_000)).save(out, "PNG")  # 81 megapixels in a few kilobytes
    return out.getvalue()


def _animated() -> bytes:
    frames = [Image.new("RGB", (64, 64), c) for c in ("red", "blue", "green")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.png", b"just some text, not a picture at all", "not a picture Tessera can read"),
        ("bomb.png", None, "too many pixels"),
        ("wide.png", None, "at most"),
        ("tiny.png", None, "too small"),
        ("moving.gif", _animated(), "Animated pictures"),
        ("cut.png", None, "not a picture Tessera can read"),
        ("doc.pdf", b"%PDF-1.4\n" + b"x" * 200, "not a picture"),
    ],
)
def test_what_is_not_a_usable_picture_is_refused_and_nothing_is_stored(people, client, name, data, message):
    if name == "bomb.png":
        data = _bomb()
        assert len(data) < 100_000
    elif name == "wide.png":
        out = io.BytesIO()
        Image.new("L", (MAX_SIDE + 1, 20)).save(out, "PNG")
        data = out.getvalue()
    elif name == "tiny.png":
        data = picture(8, 8, fmt="PNG")
    elif name == "cut.png":
        data = picture(400, 400, fmt="PNG")[:300]  # a real header, truncated pixels
    client.login(people["owner"].email)
    response = _post_avatar(client, data, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(FileUpload)) is None
    assert db.session.scalar(select(StorageUsage.bytes_used).where(StorageUsage.bytes_used > 0)) is None


def test_logo_for_admins_shown_in_switcher_invoice_page_and_pdf_and_hidden_from_other_orgs(people, client, make_client):
    org = people["org"]
    member = make_client()
    member.login("member@pics.example")
    assert member.get(f"/o/{org.slug}/files/logo").status_code == 403
    assert _post_logo(member, org, picture(fmt="PNG")).status_code == 403
    client.login("admin@pics.example")
    assert _post_logo(client, org, picture(400, 300, fmt="WEBP", color="navy"), "logo.webp").status_code == 303
    db.session.expire_all()
    org = db.session.get(Organization, org.id)
    logo = db.session.get(FileUpload, org.logo_file_id)
    assert (logo.file_type, logo.organization_id) == ("WORKSPACE_LOGO", org.id)
    assert files.usage_by_category(org)["project_assets"] == logo.size  # counted in the organization's storage
    url = f"/pictures/orgs/{org.id}/{logo.id}.png"
    assert url in client.get(f"/o/{org.slug}/").get_data(as_text=True)  # the organization switcher

    invoice = make_invoice(org)
    owner = make_client()
    owner.login("owner@pics.example")
    assert url in owner.get(f"/o/{org.slug}/billing/invoices/{invoice.id}").get_data(as_text=True)
    pdf = owner.get(f"/o/{org.slug}/billing/invoices/{invoice.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert b"/Subtype /Image" in pdf.data and b"/Width 256" in pdf.data and b"/Height 256" in pdf.data
    # the public payment page carries the picture itself (its visitor may not be signed in)
    pay = make_client().get(f"/pay/{invoice.payment_token}").get_data(as_text=True)
    assert 'class="invoice-logo" src="data:image/png;base64,' in pay

    stranger = make_client()
    stranger.login("stranger@else.example")
    assert stranger.get(url).status_code == 404
    other = db.session.scalar(select(Organization).where(Organization.slug == "else-co"))
    assert stranger.get(f"/pictures/orgs/{other.id}/{logo.id}.png").status_code == 404  # own id, another's file
    make_user("ops@pics.example", staff=True)
    staff = make_client()
    staff.login("ops@pics.example")
    assert staff.get(url).status_code == 200  # the console shows it
    assert url in staff.get(f"/admin/orgs/{org.id}").get_data(as_text=True)


def test_without_a_logo_the_pdf_has_no_image_and_removing_frees_storage(people, client):
    org = people["org"]
    invoice = make_invoice(org)
    client.login("owner@pics.example")
    assert b"/Subtype /Image" not in client.get(f"/o/{org.slug}/billing/invoices/{invoice.id}.pdf").data
    _post_logo(client, org, picture(fmt="PNG"))
    assert client.post(f"/o/{org.slug}/files/logo/remove").status_code == 303
    db.session.expire_all()
    org = db.session.get(Organization, org.id)
    assert org.logo_file_id is None and files.bytes_used(org) == 0
    page = client.get(f"/o/{org.slug}/").get_data(as_text=True)
    assert re.search(r'avatar-initials" aria-hidden="true" data-size="24" data-initials="PC">', page)  # the switcher


def test_demo_gives_people_avatars_the_main_org_a_logo_and_suspends_one_other_org(ctx):
    from webapp.auth.services import find_user_by_email
    from webapp.files.demo import demo_avatars_and_logo
    from webapp.orgs.demo import staff_and_organizations, suspended_organization

    for _ in range(2):  # idempotent
        staff_and_organizations()
        db.session.commit()
        demo_avatars_and_logo()
        suspended_organization()
        db.session.commit()
    owner = find_user_by_email("owner@harare-retail.example")
    assert owner.avatar_file_id and _stored(owner.avatar_file_id).size == (256, 256)
    assert db.session.scalar(select(FileUpload.id).where(FileUpload.file_type == "USER_AVATAR").limit(1))
    assert len(db.session.scalars(select(FileUpload).where(FileUpload.file_type == "USER_AVATAR")).all()) == 13
    main = db.session.scalar(select(Organization).where(Organization.slug == "harare-retail"))
    assert main.logo_file_id and not main.is_suspended
    suspended = db.session.scalar(select(Organization).where(Organization.slug == "mutare-hardware"))
    assert suspended.is_suspended and "Chargebacks" in suspended.suspended_reason
