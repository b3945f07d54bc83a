"""The order state machine: a plain transition table and one function to check it."""

from __future__ import annotations

from models.choice import Choice


class OrderStatus(Choice):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    DELETED = "deleted"


class Command(Choice):
    CREATE = "create"
    PAY = "pay"
    SHIP = "ship"
    DELIVER = "deliver"
    CANCEL = "cancel"
    DELETE = "delete"


TRANSITIONS: dict[tuple[OrderStatus | None, Command], OrderStatus] = {
    (None, Command.CREATE): OrderStatus.PENDING,
    (OrderStatus.PENDING, Command.PAY): OrderStatus.PAID,
    (OrderStatus.PAID, Command.SHIP): OrderStatus.SHIPPED,
    (OrderStatus.SHIPPED, Command.DELIVER): OrderStatus.DELIVERED,
    (OrderStatus.PENDING, Command.CANCEL): OrderStatus.CANCELLED,
    (OrderStatus.PAID, Command.CANCEL): OrderStatus.CANCELLED,
    # Soft delete is allowed from every live state; deleted is the only state
    # with no way out.
    **{(status, Command.DELETE): OrderStatus.DELETED for status in OrderStatus if status is not OrderStatus.DELETED},
}


class InvalidTransition(Exception):
    """The command is not allowed from the order's current status."""

    def __init__(self, status: OrderStatus | None, command: Command) -> None:
        self.status = status
        self.command = command
        where = f"an order in status '{status}'" if status else "an order that does not exist yet"
        super().__init__(f"'{command}' is not allowed on {where}")


def next_status(status: OrderStatus | None, command: Command) -> OrderStatus:
    """Return the status `command` leads to from `status`, or raise InvalidTransition."""
    try:
        return TRANSITIONS[(status, command)]
    except KeyError:
        raise InvalidTransition(status, command) from None
