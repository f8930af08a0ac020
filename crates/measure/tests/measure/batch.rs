//! Batch CSV scoring: output format, bad rows reported by line and column while good rows are
//! scored, hard errors for bad headers, and agreement with one-at-a-time scoring.

use crate::common::{demo, semcd};
use alongside_measure::{score_csv, BatchError, Instrument, Outcome};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn run(ins: &Instrument, input: &str) -> (alongside_measure::BatchSummary, String) {
    let mut out = Vec::new();
    let summary = score_csv(ins, input.as_bytes(), &mut out).expect("batch runs");
    (summary, String::from_utf8(out).unwrap())
}

fn header13() -> String {
    let mut h = "id".to_string();
    for i in 1..=13 {
        h.push_str(&format!(",demo-{i:02}"));
    }
    h
}

#[test]
fn bad_rows_are_reported_and_good_rows_still_scored() {
    let ins = demo();
    let input = format!(
        "{}\n\
         r1,1,2,3,4,1,2,3,4,1,2,3,4,na\n\
         r2,1,2,9,4,1,2,3,4,1,2,3,4,1\n\
         r3,3,3,3,3,3,3,3,3,3,3,3,3,3\n\
         r4,3,3,3\n\
         ,3,3,3,3,3,3,3,3,3,3,3,3,3\n\
         r6,4,4,4,4,4,4,4,4,4,4,4,4,4,4\n\
         r7,2,,,,,,,,,,,,2\n\
         r8,4,4,4,4,4,4,4,4,4,4,4,4,4\n",
        header13()
    );
    let (summary, out) = run(&ins, &input);
    assert_eq!(summary.rows_read, 8);
    assert_eq!(summary.rows_scored, 3);
    assert_eq!(summary.rows_not_scored, 1);
    assert_eq!(summary.rows_rejected, 4);
    let errs: Vec<(u64, Option<usize>, &str)> = summary
        .row_errors
        .iter()
        .map(|e| (e.line, e.column, e.message.as_str()))
        .collect();
    assert_eq!(
        errs,
        [
            (3, Some(4), "item \"demo-03\": unknown answer code \"9\""),
            (5, Some(5), "expected 14 columns, found 4"),
            (6, Some(1), "empty respondent id"),
            (7, Some(15), "expected 14 columns, found 15"),
        ]
    );
    assert_eq!(
        summary.row_errors[0].to_string(),
        "line 3, column 4: item \"demo-03\": unknown answer code \"9\""
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "respondent_id,items_answered,raw_score,measure,standard_error,score,level,flags"
    );
    let ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["r1", "r3", "r7", "r8"]);
    assert_eq!(lines[3], "r7,2,2,,,,,not_scored:too_few_answered");
    assert!(
        lines[4].ends_with(",4,all_highest_category"),
        "{}",
        lines[4]
    );
    let r1: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(r1[1], "12");
    assert_eq!(r1[2], "18");
}

#[test]
fn output_matches_single_response_scoring() {
    let ins = demo();
    let (summary, out) = run(
        &ins,
        &format!("{}\nabc,1,2,3,4,1,2,3,4,1,2,3,4,na\n", header13()),
    );
    assert_eq!(summary.rows_scored, 1);
    let codes = [
        "1", "2", "3", "4", "1", "2", "3", "4", "1", "2", "3", "4", "na",
    ];
    let s = *ins
        .responses_in_order(&codes.map(Some))
        .map(|r| ins.score(&r))
        .unwrap()
        .scored()
        .unwrap();
    let expected = format!(
        "abc,{},{},{:.6},{:.6},{:.1},{},{}",
        s.items_answered,
        s.raw_score,
        s.measure.unwrap(),
        s.standard_error.unwrap(),
        s.rounded_score(),
        s.level.unwrap(),
        s.flags
    );
    assert_eq!(out.lines().nth(1).unwrap(), expected);
}

#[test]
fn unknown_header_link_id_is_a_hard_error() {
    let ins = demo();
    let err = score_csv(&ins, "id,demo-01,demo-x\nr,1,1\n".as_bytes(), Vec::new()).unwrap_err();
    match &err {
        BatchError::UnknownItem { column, link_id } => {
            assert_eq!((*column, link_id.as_str()), (3, "demo-x"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "header column 3: unknown item link id \"demo-x\""
    );
    let err = score_csv(&ins, "id,demo-01,demo-01\n".as_bytes(), Vec::new()).unwrap_err();
    assert!(
        matches!(err, BatchError::DuplicateItem { column: 3, .. }),
        "{err:?}"
    );
    let err = score_csv(&ins, "".as_bytes(), Vec::new()).unwrap_err();
    assert!(matches!(err, BatchError::MissingHeader), "{err:?}");
}

#[test]
fn columns_may_be_a_subset_in_any_order_with_spaces_bom_and_crlf() {
    let ins = semcd();
    let input = "\u{feff}person, semcd-3 ,semcd-1,semcd-2,semcd-6\r\n\
                 \"a, b\", 10 ,8,6,4\r\n\
                 \"say \"\"hi\"\"\",1,1,1,1\r\n";
    let (summary, out) = run(&ins, input);
    assert_eq!(summary.rows_scored, 2, "{summary:?}");
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][0], "a, b");
    assert_eq!(&rows[0][1], "4");
    assert_eq!(&rows[0][2], "28");
    assert_eq!(&rows[0][3], "");
    assert_eq!(&rows[0][5], "7.0");
    assert_eq!(&rows[0][6], "");
    assert_eq!(&rows[1][0], "say \"hi\"");
    assert_eq!(&rows[1][7], "all_lowest_category");
}

#[test]
fn many_random_rows_agree_with_single_scoring() {
    // The batch path caches by (answered set, raw score); check it against direct scoring.
    let ins = demo();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut input = header13();
    input.push('\n');
    let mut expected = Vec::new();
    for r in 0..3000 {
        let codes: Vec<Option<&str>> = (0..13)
            .map(|_| match rng.gen_range(0..12) {
                0 => None,
                1 => Some("na"),
                k => Some(["1", "2", "3", "4"][k % 4]),
            })
            .collect();
        input.push_str(&format!("p{r}"));
        for c in &codes {
            input.push(',');
            input.push_str(c.unwrap_or(""));
        }
        input.push('\n');
        expected.push(ins.score(&ins.responses_in_order(&codes).unwrap()));
    }
    let (summary, out) = run(&ins, &input);
    assert_eq!(summary.rows_read, 3000);
    assert!(summary.row_errors.is_empty());
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let mut n = 0;
    for (row, exp) in rdr.records().map(Result::unwrap).zip(&expected) {
        n += 1;
        assert_eq!(row[1].parse::<usize>().unwrap(), exp.items_answered());
        assert_eq!(row[2].parse::<i64>().unwrap(), exp.raw_score());
        match exp {
            Outcome::Scored(s) => {
                let m: f64 = row[3].parse().unwrap();
                assert!((m - s.measure.unwrap()).abs() <= 5e-7);
                let se: f64 = row[4].parse().unwrap();
                assert!((se - s.standard_error.unwrap()).abs() <= 5e-7);
                assert_eq!(row[5].parse::<f64>().unwrap(), s.rounded_score());
                assert_eq!(row[6].parse::<u8>().unwrap(), s.level.unwrap());
                assert_eq!(&row[7], s.flags.to_string());
            }
            Outcome::NotScored(ns) => {
                assert_eq!(&row[5], "");
                assert_eq!(
                    row[7].to_string(),
                    format!("not_scored:{}", ns.reason.code())
                );
            }
        }
    }
    assert_eq!(n, 3000);
    assert_eq!(
        summary.rows_scored + summary.rows_not_scored,
        3000,
        "{summary:?}"
    );
}

#[test]
fn row_errors_are_capped_but_counted() {
    let ins = semcd();
    let mut input = String::from("id,semcd-1\n");
    for i in 0..(alongside_measure::batch::MAX_ROW_ERRORS + 5) {
        input.push_str(&format!("r{i},99\n"));
    }
    let (summary, _) = run(&ins, &input);
    assert_eq!(
        summary.row_errors.len(),
        alongside_measure::batch::MAX_ROW_ERRORS
    );
    assert_eq!(summary.row_errors_omitted, 5);
    assert_eq!(
        summary.rows_rejected,
        alongside_measure::batch::MAX_ROW_ERRORS as u64 + 5
    );
}
