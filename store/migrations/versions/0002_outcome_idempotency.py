"""outcomes.idempotency_key: a repeated POST /api/outcomes or form records one outcome

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.create_unique_constraint(
            "uq_outcomes_idempotency", ["org_id", "idempotency_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outcomes_idempotency", type_="unique")
        batch_op.drop_column("idempotency_key")
