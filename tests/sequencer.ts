import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take a minute or more start first, so that the two workers finish together.
 * Without a results cache (a clean clone, as in CI) vitest starts the largest files first, and
 * these are small: they ran last, one worker alone at the end.
 */
const LONG = [/tests\/examples\/shard-\d+\.test\.ts$/, /tests\/synthea\.test\.ts$/, /tests\/access-matrix\.test\.ts$/];

export default class LongFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const long = (f: TestSpecification) => LONG.some((re) => re.test(f.moduleId));
    return [...sorted.filter(long), ...sorted.filter((f) => !long(f))];
  }
}
