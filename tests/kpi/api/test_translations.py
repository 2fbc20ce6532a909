"""Installing Django REST framework changes no page's wording: the messages its catalog shares with Django's
read as Django's (kpi/api/locale), on the site's forms and in the API's errors alike."""
import gettext
from pathlib import Path

import django
import pytest
import rest_framework
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation


def _catalog(package, *parts) -> dict:
    with open(Path(package.__file__).parent.joinpath(*parts, "zh_Hans", "LC_MESSAGES", "django.mo"), "rb") as mo:
        return gettext.GNUTranslations(mo)._catalog


def test_every_message_drf_shares_with_django_reads_as_djangos():
    djangos, drfs = _catalog(django, "conf", "locale"), _catalog(rest_framework, "locale")
    shared = sorted(m for m in set(djangos) & set(drfs) if m and djangos[m] != drfs[m])
    assert "This field is required." in shared  # DRF words it 该字段是必填项。
    with translation.override("zh-hans"):
        assert {m: translation.gettext(m) for m in shared} == {m: djangos[m] for m in shared}


def test_a_page_forms_required_field_says_what_django_says():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        forms.CharField().clean("")
    assert refused.value.messages == ["这个字段是必填项。"]
