# Checks for docs/TUTORIAL.md, sourced by scripts/run-tour.sh after the
# commands ran (expect_in COMMAND-SUBSTRING TEXT, expect_lines ... N).
expect_lines 'log --prefix shop/' 'shop/currency' 2
expect_in '/v1/revisions/2' '"actor":"ben"'
expect_in "set shop/currency '\"CHF\"'" 'revision 2'
expect_in '--expect 1' 'refused: version is 2, not 1'
expect_in "-d '{\"value\": 7.7}'" '"version_conflict"'
expect_in 'curl -s -i' 'X-Chronoconf-Revision'
expect_in 'metrics' 'chronoconf_group_commit_batch_commits_count'
expect_in 'get shop/currency --at 1' '"EUR"'
expect_in 'diff 1 2' 'shop/currency'
expect_in 'revert 1' 'reverted to revision 1'
expect_in 'verify --store' 'ok: 2 commits'
