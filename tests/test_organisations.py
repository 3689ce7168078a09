"""The organisation tree: a subtree is one query; scope follows role nodes."""

import pytest
from django.db import IntegrityError

from cme_portal.accounts.models import Organisation, OrgKind, Role

from .factories import OrganisationFactory, staff

pytestmark = pytest.mark.django_db


def test_subtree_is_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = set(Organisation.objects.subtree(tree["city_a"]).values_list("name", flat=True))
    assert names == {"甲市", "甲市东区", "甲市人民医院", "甲市东区社区卫生服务中心", "心内科"}


def test_subtree_of_a_unit_is_the_unit_and_its_departments(tree):
    assert set(Organisation.objects.subtree(tree["unit_a"])) == {tree["unit_a"], tree["dept_a"]}
    assert set(Organisation.objects.subtree(tree["unit_a"], include_self=False)) == {tree["dept_a"]}


def test_path_prefixes_never_confuse_siblings(tree):
    # Node 1 and node 10 share a leading digit; fixed-width ids keep them apart.
    for n in range(12):
        OrganisationFactory(name=f"乙市医院{n}", parent=tree["city_b"])
    city_a_names = set(Organisation.objects.subtree(tree["city_a"]).values_list("name", flat=True))
    assert not any(name.startswith("乙市") for name in city_a_names)


def test_moving_a_node_moves_its_subtree(tree):
    unit = tree["unit_a"]
    unit.parent = tree["city_b"]
    unit.save()
    in_b = set(Organisation.objects.subtree(tree["city_b"]))
    assert {tree["unit_a"], tree["dept_a"]} <= in_b
    assert tree["dept_a"] not in set(Organisation.objects.subtree(tree["city_a"]))


def test_ancestors_run_from_the_root(tree):
    assert list(tree["dept_a"].ancestors()) == [tree["province"], tree["city_a"], tree["unit_a"], tree["dept_a"]]
    assert tree["unit_a2"].ancestor_of_kind(OrgKind.CITY) == tree["city_a"]


def test_only_a_province_may_be_a_root(db):
    with pytest.raises(IntegrityError):
        OrganisationFactory(name="无上级的市", kind=OrgKind.CITY, parent=None)


def test_staff_scope_is_the_subtree_of_their_node(tree, django_assert_num_queries):
    city_admin = staff(Role.CITY_ADMIN, tree["city_a"])
    with django_assert_num_queries(2):  # the role's nodes, then the subtree
        scope = set(city_admin.scope(Role.CITY_ADMIN))
    assert tree["unit_a2"] in scope and tree["unit_b"] not in scope
    assert set(city_admin.scope(Role.PROVINCE_ADMIN)) == set()


def test_a_staff_role_needs_a_node(tree):
    from cme_portal.accounts.models import RoleAssignment

    person = staff(Role.ORGANISER, tree["unit_a"])
    with pytest.raises(IntegrityError):
        RoleAssignment.objects.create(user=person, role=Role.UNIT_ADMIN, org=None)
