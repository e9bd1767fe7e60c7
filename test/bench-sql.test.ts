// The benchmark's bare route (bench/bare.ts) is the read path's limit only if it runs the
// very statements the service runs: bench/lib.ts takes them from the values repository.
// This checks that the capture still finds them, with the parameters the bare route binds.
import t from 'tap'
import { serviceStatements } from '../bench/lib.ts'

t.test('the bare route runs the SQL of the service\'s series and point reads', async (t) => {
  const { series, point } = await serviceStatements()
  t.match(series, /^select .*"region_code".* from "yearly_values" where .*\$1.*\$2.* limit \$3$/s, 'series read: region, indicator, limit')
  t.notMatch(series, /\$4/)
  t.match(point, /^select .* from yearly_values where id = \$1$/s, 'point read: the id')
  t.match(point, /to_char\("created_at" at time zone 'UTC'/, 'timestamps formatted by the database, as the service reads them')
})
