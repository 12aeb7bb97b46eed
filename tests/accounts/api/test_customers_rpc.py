"""Customers through a real gRPC server, on SQLite and PostgreSQL."""

from __future__ import annotations

import grpc

from settle.accounts.v1 import accounts_pb2 as pb
from settle.common.v1.common_pb2 import Money
from tests.support.rpc import expect_error


def new_customer(**overrides) -> pb.Customer:
    fields = dict(
        display_name="Acme GmbH",
        external_ref="C-1000",
        country_code="DE",
        time_zone="Europe/Berlin",
        currency_code="EUR",
        risk_class=pb.HIGH,
        credit_limit=Money(currency_code="EUR", amount="50000.00"),
        contacts=[pb.Contact(name="Ana Buch", email="ana@acme.example", language="de-DE")],
    )
    fields.update(overrides)
    return pb.Customer(**fields)


async def test_create_then_get_returns_the_same_customer(accounts):
    created = await accounts.stub.CreateCustomer(pb.CreateCustomerRequest(customer=new_customer()))
    assert created.name.startswith("customers/")
    fetched = await accounts.stub.GetCustomer(pb.GetCustomerRequest(name=created.name))
    assert fetched == created
    assert fetched.credit_limit.amount == "50000.00"
    assert fetched.contacts[0].email == "ana@acme.example"
    assert fetched.risk_class == pb.HIGH


async def test_retry_with_the_same_request_id_creates_one_customer(accounts):
    request = pb.CreateCustomerRequest(customer=new_customer(), request_id="req-1")
    first = await accounts.stub.CreateCustomer(request)
    second = await accounts.stub.CreateCustomer(request)
    assert first.name == second.name
    listed = await accounts.stub.ListCustomers(pb.ListCustomersRequest())
    assert [c.name for c in listed.customers] == [first.name]


async def test_reusing_a_request_id_for_other_content_is_refused(accounts):
    await accounts.stub.CreateCustomer(
        pb.CreateCustomerRequest(customer=new_customer(), request_id="r")
    )
    other = pb.CreateCustomerRequest(customer=new_customer(display_name="Other"), request_id="r")
    await expect_error(
        accounts.stub.CreateCustomer(other), grpc.StatusCode.INVALID_ARGUMENT, field="request_id"
    )


async def test_bad_input_names_every_field_and_writes_nothing(accounts):
    bad = new_customer(
        display_name="",
        country_code="Germany",
        time_zone="Mars/Olympus",
        currency_code="EURO",
        credit_limit=Money(currency_code="EUR", amount="1.234"),
        contacts=[pb.Contact(email="not-an-email")],
    )
    # the rules the protos declare first (common/contract.py), every one at once ...
    await expect_error(
        accounts.stub.CreateCustomer(pb.CreateCustomerRequest(customer=bad)),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=["customer.display_name", "customer.country_code", "customer.currency_code"],
    )
    # ... then the service's own: a real time zone, EUR's two decimals, an email address
    bad.display_name, bad.country_code, bad.currency_code = "Acme", "DE", "EUR"
    await expect_error(
        accounts.stub.CreateCustomer(pb.CreateCustomerRequest(customer=bad)),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=["customer.time_zone", "customer.credit_limit.amount", "customer.contacts[0].email"],
    )
    listed = await accounts.stub.ListCustomers(pb.ListCustomersRequest())
    assert len(listed.customers) == 0


async def test_duplicate_external_ref_is_already_exists(accounts):
    await accounts.stub.CreateCustomer(pb.CreateCustomerRequest(customer=new_customer()))
    await expect_error(
        accounts.stub.CreateCustomer(pb.CreateCustomerRequest(customer=new_customer())),
        grpc.StatusCode.ALREADY_EXISTS,
    )


async def test_update_with_stale_etag_is_aborted_and_changes_nothing(accounts):
    created = await accounts.stub.CreateCustomer(pb.CreateCustomerRequest(customer=new_customer()))
    update = pb.Customer(name=created.name, etag=created.etag, credit_hold=True)
    updated = await accounts.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(customer=update, update_mask="credit_hold")
    )
    assert updated.credit_hold and updated.etag != created.etag
    assert updated.display_name == "Acme GmbH"  # untouched: not in the mask
    stale = pb.Customer(name=created.name, etag=created.etag, display_name="Renamed")
    await expect_error(
        accounts.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(customer=stale, update_mask="display_name")
        ),
        grpc.StatusCode.ABORTED,
    )
    fetched = await accounts.stub.GetCustomer(pb.GetCustomerRequest(name=created.name))
    assert fetched.display_name == "Acme GmbH"


async def test_an_unknown_currency_in_an_update_is_named_and_judged_only_when_masked(accounts):
    """Found by Schemathesis: an unknown credit-limit currency was a violation named "currency"
    (no "customer." prefix) and the mask filter indexed it: a 500. Now it is
    customer.credit_limit.currency_code, refused when credit_limit is in the mask, ignored when
    it is not, and a bad mask is refused either way."""
    created = await accounts.stub.CreateCustomer(pb.CreateCustomerRequest(customer=new_customer()))
    update = pb.Customer(
        name=created.name,
        etag=created.etag,
        display_name="Renamed",
        credit_limit=Money(currency_code="edY", amount="10.00"),
    )
    await expect_error(
        accounts.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(customer=update, update_mask="credit_limit")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=["customer.credit_limit.currency_code"],
    )
    await expect_error(
        accounts.stub.UpdateCustomer(pb.UpdateCustomerRequest(customer=update, update_mask="nope")),
        grpc.StatusCode.INVALID_ARGUMENT,
        fields=["update_mask"],
    )
    renamed = await accounts.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(customer=update, update_mask="display_name")
    )
    assert renamed.display_name == "Renamed" and renamed.credit_limit == created.credit_limit


async def test_list_filters_orders_and_pages(accounts):
    for i in range(5):
        await accounts.stub.CreateCustomer(
            pb.CreateCustomerRequest(
                customer=new_customer(
                    display_name=f"Customer {i}",
                    external_ref=f"C-{i}",
                    country_code="FR" if i % 2 else "DE",
                )
            )
        )
    first = await accounts.stub.ListCustomers(
        pb.ListCustomersRequest(filter="country_code=DE", order_by="display_name desc", page_size=2)
    )
    assert [c.display_name for c in first.customers] == ["Customer 4", "Customer 2"]
    second = await accounts.stub.ListCustomers(
        pb.ListCustomersRequest(
            filter="country_code=DE",
            order_by="display_name desc",
            page_size=2,
            page_token=first.next_page_token,
        )
    )
    assert [c.display_name for c in second.customers] == ["Customer 0"]
    assert second.next_page_token == ""
    await expect_error(
        accounts.stub.ListCustomers(pb.ListCustomersRequest(filter="password=x")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="filter",
    )
    await expect_error(
        accounts.stub.ListCustomers(
            pb.ListCustomersRequest(filter="country_code=FR", page_token=first.next_page_token)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="page_token",
    )


async def test_missing_and_malformed_names(accounts):
    await expect_error(
        accounts.stub.GetCustomer(pb.GetCustomerRequest(name="customers/" + "0" * 32)),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        accounts.stub.GetCustomer(pb.GetCustomerRequest(name="customers/../../etc")),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="name",
    )


async def test_calls_that_do_not_come_from_settle_are_unauthenticated(accounts):
    from settle.accounts.v1 import accounts_pb2_grpc

    async with grpc.aio.insecure_channel(accounts.address) as raw:
        stub = accounts_pb2_grpc.AccountsServiceStub(raw)
        await expect_error(
            stub.ListCustomers(pb.ListCustomersRequest()), grpc.StatusCode.UNAUTHENTICATED
        )


async def test_a_nul_byte_in_a_display_name_is_a_field_violation(accounts):
    # PostgreSQL cannot store NUL: unchecked, it was an INTERNAL error from the driver
    bad = new_customer(display_name="Acme\x00 GmbH")
    await expect_error(
        accounts.stub.CreateCustomer(pb.CreateCustomerRequest(customer=bad)),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="customer.display_name",
    )
    listed = await accounts.stub.ListCustomers(pb.ListCustomersRequest())
    assert len(listed.customers) == 0


async def test_billing_accounts_are_listed_as_created_page_by_page(accounts):
    customer = await accounts.stub.CreateCustomer(pb.CreateCustomerRequest(customer=new_customer()))
    made = [
        await accounts.stub.CreateBillingAccount(
            pb.CreateBillingAccountRequest(
                parent=customer.name,
                billing_account=pb.BillingAccount(
                    display_name=f"Plant {n}", number=f"BA-{n}", currency_code="EUR"
                ),
            )
        )
        for n in range(3)
    ]
    first = await accounts.stub.ListBillingAccounts(
        pb.ListBillingAccountsRequest(parent=customer.name, page_size=2)
    )
    rest = await accounts.stub.ListBillingAccounts(
        pb.ListBillingAccountsRequest(
            parent=customer.name, page_size=2, page_token=first.next_page_token
        )
    )
    assert [*first.billing_accounts, *rest.billing_accounts] == made
    assert rest.next_page_token == ""
    await expect_error(
        accounts.stub.ListBillingAccounts(
            pb.ListBillingAccountsRequest(parent="customers/" + "0" * 32)
        ),
        grpc.StatusCode.NOT_FOUND,
    )
