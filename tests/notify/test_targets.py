"""The shown form of a target never carries its secret, whatever the service's URL shape."""

import pytest

from jumpdeck.core.errors import ValidationError
from jumpdeck.core.notify.targets import check_url, redact


@pytest.mark.parametrize("url, shown", [
    ("json://127.0.0.1:8080/hook/TOKEN?key=TOKEN", "json://127.0.0.1:8080/…"),
    ("jsons://user:TOKEN@hooks.example.com/x", "jsons://hooks.example.com/…"),
    ("slack://TOKENA/TOKENB/TOKENC", "slack://…"),
    ("tgram://123456789:TOKEN/42", "tgram://…"),
    ("mailto://me:TOKEN@gmail.com", "mailto://gmail.com/…"),
    ("json://[::1]:9000/TOKEN", "json://[::1]:9000/…"),
])
def test_redacted_form_keeps_scheme_and_host_only(url, shown):
    assert redact(url) == shown
    assert "TOKEN" not in redact(url)


def test_check_url_names_the_service():
    checked = check_url("json://127.0.0.1:9/hook/TOKEN")
    assert checked.service == "JSON" and checked.shown == "json://127.0.0.1:9/…"


@pytest.mark.parametrize("url", ["", "not a url", "nosuchservice://TOKEN@host/x", "json://host/TOKEN x"])
def test_a_bad_url_is_one_sentence_without_it(url):
    with pytest.raises(ValidationError) as err:
        check_url(url)
    assert "TOKEN" not in str(err.value)
    assert str(err.value).endswith(".")
