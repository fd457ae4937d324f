//! The review's pure half: corrections merged into a draft (histórico years,
//! drops, clears, every bad field listed) and the problems that block an
//! approval. The HTTP flow (transaction, records, 404/409/422) is tested in
//! api-lite/tests/documents_review.rs.

use documents::{DocType, Extraction, Method, School, Student, SubjectResult, TermGrade};
use jobs::kinds::documents::review::{apply, blocking, Corrections};
use serde_json::{json, Value};

fn subject(name: &str, code: &str, grades: &[f64]) -> SubjectResult {
    SubjectResult {
        name: name.into(),
        name_original: name.into(),
        code: code.into(),
        terms: grades
            .iter()
            .enumerate()
            .map(|(i, g)| TermGrade {
                term: i as u8 + 1,
                grade: Some(*g),
                raw: None,
                confidence: None,
            })
            .collect(),
        final_grade: None,
        absences: None,
        attendance_pct: None,
        status: None,
        workload_hours: None,
        recovery_grade: None,
    }
}

fn historico() -> Extraction {
    let year = |y: i32, g: f64| documents::YearRecord {
        year: Some(y),
        grade_level: None,
        school_name: None,
        subjects: vec![
            subject("Matemática", "matematica", &[g]),
            subject("História", "historia", &[g]),
        ],
        overall_attendance_pct: None,
        status: None,
    };
    Extraction {
        document_id: None,
        doc_type: DocType::Historico,
        pages: 1,
        method: Method::Text,
        confidence: 100.0,
        student: Student {
            name: Some("Ana".into()),
            registration: Some("1".into()),
            ..Student::default()
        },
        school: School::default(),
        year: Some(2023),
        subjects: vec![],
        years: vec![year(2022, 7.0), year(2023, 8.0)],
        overall_attendance_pct: None,
        warnings: vec![],
        page_info: vec![],
        needs_review: true,
        review_reasons: vec![],
    }
}

fn fix(v: serde_json::Value) -> Corrections {
    serde_json::from_value(v).unwrap()
}

#[test]
fn historico_fixes_need_the_year_and_land_in_it() {
    let mut x = historico();
    let e = apply(
        &mut x,
        &fix(json!({"subjects": [{"code": "historia", "final_grade": 6}]})),
        10.0,
    )
    .unwrap_err();
    assert_eq!(e[0].field, "corrections.subjects[0].code");
    assert!(e[0].message.contains("give year"));
    let changes = apply(
        &mut x,
        &fix(json!({"subjects": [{"code": "historia", "year": 2022, "terms": [{"term": 1, "grade": "6,5"}, {"term": 2, "grade": 7}]},
                                  {"code": "matematica", "year": 2023, "remove": true}]})),
        10.0,
    )
    .unwrap();
    assert_eq!(
        x.years[0].subjects[1]
            .terms
            .iter()
            .map(|t| t.grade)
            .collect::<Vec<_>>(),
        [Some(6.5), Some(7.0)]
    );
    assert_eq!(x.years[1].subjects.len(), 1);
    assert_eq!(x.years[1].subjects[0].code, "historia");
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "years[0].subjects[1].terms[term 1].grade",
            "years[0].subjects[1].terms[term 2].grade",
            "years[1].subjects[0]"
        ]
    );
    assert_eq!(changes[1].from, Value::Null);
}

#[test]
fn absent_keeps_null_clears_and_errors_list_every_field() {
    let mut x = historico();
    x.school.cnpj = Some("11222333000181".into());
    apply(
        &mut x,
        &fix(json!({"school": {"cnpj": null}, "student": {"class_name": "7º A"}})),
        10.0,
    )
    .unwrap();
    assert_eq!(x.school.cnpj, None);
    assert_eq!(x.student.name.as_deref(), Some("Ana"));
    assert_eq!(x.student.class_name.as_deref(), Some("7º A"));
    let before = x.clone();
    let e = apply(
        &mut x,
        &fix(
            json!({"student": {"birth_date": "2031-01-01"}, "school": {"cnpj": "12.ABC"},
                    "subjects": [{"code": "historia", "year": 2022, "final_grade": -1}]}),
        ),
        10.0,
    )
    .unwrap_err();
    let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "corrections.student.birth_date",
            "corrections.school.cnpj",
            "corrections.subjects[0].final_grade"
        ]
    );
    // A refused correction changes nothing the caller keeps: the route
    // rolls back; here the values that failed were not applied.
    assert_eq!(
        x.years[0].subjects[1].final_grade,
        before.years[0].subjects[1].final_grade
    );
}

#[test]
fn blocking_problems_are_what_would_write_wrong_or_nothing() {
    let mut x = historico();
    assert_eq!(blocking(&x, false, 10.0), vec![]);
    x.student.registration = None;
    assert_eq!(blocking(&x, true, 10.0), vec![]);
    x.years[1].subjects[0].terms[0].grade = Some(80.0);
    x.years[0].subjects[1].code = "matematica".into();
    x.school.cnpj = Some("11222333000182".into());
    let fields: Vec<String> = blocking(&x, false, 10.0)
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        [
            "draft.student.registration",
            "draft.school.cnpj",
            "draft.years[0].subjects[1].code",
            "draft.years[1].subjects[0].terms[0].grade"
        ]
    );
}
