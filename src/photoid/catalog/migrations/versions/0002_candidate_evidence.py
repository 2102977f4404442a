"""Match candidates keep their evidence: the best-matching gallery image and the matched
keypoint pairs.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("match_candidates") as batch:
        batch.add_column(sa.Column("best_image_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("keypoints", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_match_candidates_best_image_id_images"),
            "images",
            ["best_image_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("match_candidates") as batch:
        batch.drop_constraint(op.f("fk_match_candidates_best_image_id_images"), type_="foreignkey")
        batch.drop_column("keypoints")
        batch.drop_column("best_image_id")
