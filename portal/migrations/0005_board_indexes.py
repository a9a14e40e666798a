"""Leaderboard indexes with descending scores (hand-written: Tortoise cannot declare them)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('portal', '0004_notifications_and_standings')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Account',
            name=None,
            fields=['kind', 'earned_total', 'last_earned_at'],
        ),
        ops.RemoveIndex(
            model_name='Account',
            name=None,
            fields=['kind', 'last_earned_at'],
        ),
        ops.RemoveIndex(
            model_name='SeasonScore',
            name=None,
            fields=['season', 'earned', 'reached_at'],
        ),
        # Leaderboards read in this order (score descending, then who got there first):
        # with these indexes the top, a rank and its neighbours are index range scans.
        ops.RunSQL(
            "CREATE INDEX season_score_board ON season_score "
            "(season, earned DESC, reached_at ASC, account_id ASC)",
            reverse_sql="DROP INDEX season_score_board",
        ),
        ops.RunSQL(
            "CREATE INDEX account_board ON account "
            "(kind, earned_total DESC, last_earned_at ASC, id ASC)",
            reverse_sql="DROP INDEX account_board",
        ),
    ]
