import pytest

pytestmark = pytest.mark.django_db


def test_home_page_shows_the_registry_and_flags_illustrative_data(client, django_assert_num_queries):
    with django_assert_num_queries(5):  # units, poverty statuses, designations, illustrative designations, batches
        response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "3055" in html and "832" in html
    assert "1146" in html  # the illustrative designations are announced with their number
    assert "2021年第一批电子商务进农村综合示范县" in html
    assert "incomplete: 29 of 148 known" in html  # the 2021 batch has no illustrative fill
    assert "55 illustrative records" in html  # 2014: 56, less 正定, named in a news report


def test_home_page_in_english(client):
    response = client.get("/en/")
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()
