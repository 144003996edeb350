import { copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { promtool } from '../support/promtool.js';

/**
 * The rule files Spillway ships (infra/prometheus/*.yml) against the real promtool: they parse
 * (`check rules`), their unit tests (`*-test.yml`, `test rules`) pass, and every alert and
 * recording rule is covered by a unit test.
 */
const INFRA_PROMETHEUS = fileURLToPath(new URL('../../infra/prometheus/', import.meta.url));

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}
interface UnitTestFile {
  rule_files: string[];
  tests: {
    alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
    promql_expr_test?: { expr: string }[];
  }[];
}

async function infraFiles(): Promise<{ rules: string[]; tests: string[] }> {
  const files = (await readdir(INFRA_PROMETHEUS)).filter((file) => file.endsWith('.yml')).sort();
  return {
    rules: files.filter((file) => !file.endsWith('-test.yml')),
    tests: files.filter((file) => file.endsWith('-test.yml')),
  };
}

async function yamlOf<T>(file: string): Promise<T> {
  return parse(await readFile(join(INFRA_PROMETHEUS, file), 'utf8')) as T;
}

describe('infra/prometheus rules (real promtool)', () => {
  it('every rule file parses: promtool check rules', async () => {
    const { rules } = await infraFiles();
    expect(rules).toEqual(['spillway-operations-rules.yml', 'spillway-slo-rules.yml']);
    const checked = await promtool(['check', 'rules', ...rules], INFRA_PROMETHEUS);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout.match(/SUCCESS: \d+ rules found/g)).toHaveLength(rules.length);
  });

  it('their unit tests pass: promtool test rules infra/prometheus/*-test.yml', async () => {
    const { tests } = await infraFiles();
    expect(tests).toEqual(['spillway-operations-rules-test.yml', 'spillway-slo-rules-test.yml']);
    const tested = await promtool(['test', 'rules', ...tests], INFRA_PROMETHEUS);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout.match(/SUCCESS/g)).toHaveLength(tests.length);
  });

  it('a wrong expectation fails promtool test rules (the tests can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-rules-'));
    await copyFile(join(INFRA_PROMETHEUS, 'spillway-operations-rules.yml'), join(dir, 'spillway-operations-rules.yml'));
    const test = await readFile(join(INFRA_PROMETHEUS, 'spillway-operations-rules-test.yml'), 'utf8');
    const wrong = test.replace(
      'source: dc1, state: stale, severity: page',
      'source: dc1, state: stale, severity: ticket',
    );
    expect(wrong).not.toBe(test);
    await writeFile(join(dir, 'wrong-test.yml'), wrong);
    const tested = await promtool(['test', 'rules', 'wrong-test.yml'], dir);
    expect(tested.code).not.toBe(0);
    expect(tested.stdout + tested.stderr).toContain('alertname: SpillwaySourceStale');
  });

  it('every alert has a case that fires and one that does not; every recording rule is exercised by a tested expression', async () => {
    const { rules, tests } = await infraFiles();
    for (const ruleFile of rules) {
      const testFile = ruleFile.replace(/\.yml$/, '-test.yml');
      expect(tests, `${ruleFile} has no unit test file`).toContain(testFile);
      const unit = await yamlOf<UnitTestFile>(testFile);
      expect(unit.rule_files).toEqual([ruleFile]);
      const all = (await yamlOf<RuleFile>(ruleFile)).groups.flatMap((group) => group.rules);

      const alertCases = unit.tests.flatMap((test) => test.alert_rule_test ?? []);
      for (const alert of new Set(all.flatMap((rule) => (rule.alert ? [rule.alert] : [])))) {
        const cases = alertCases.filter((c) => c.alertname === alert);
        expect(
          cases.some((c) => (c.exp_alerts ?? []).length > 0),
          `${ruleFile}: no test where ${alert} fires`,
        ).toBe(true);
        expect(
          cases.some((c) => (c.exp_alerts ?? []).length === 0),
          `${ruleFile}: no test where ${alert} stays quiet`,
        ).toBe(true);
      }

      // A recording rule is exercised when a tested expression uses it, or a tested rule does.
      const testedExprs = unit.tests.flatMap((test) => (test.promql_expr_test ?? []).map((c) => c.expr));
      const exercised = all.filter((rule) => rule.alert && alertCases.some((c) => c.alertname === rule.alert));
      const uses = (expr: string, name: string) => new RegExp(`(^|[^\\w:])${name}([^\\w:]|$)`).test(expr);
      const records = all.filter((rule) => rule.record);
      let grew = true;
      while (grew) {
        grew = false;
        for (const rule of records) {
          if (exercised.includes(rule)) continue;
          const name = rule.record!;
          if (testedExprs.some((expr) => uses(expr, name)) || exercised.some((user) => uses(user.expr, name))) {
            exercised.push(rule);
            grew = true;
          }
        }
      }
      for (const rule of records) expect(exercised, `${ruleFile}: ${rule.record} is never tested`).toContain(rule);
    }
  });
});
