//! The functions PromQL knows, with the types of their arguments and result, after Prometheus'
//! `promql/parser/functions.go`.

use super::ast::ValueType::{self, Matrix, Scalar, String as Str, Vector};

/// Whether Prometheus accepts a function as it is started by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    /// Always available.
    Stable,
    /// Only with `--enable-feature=promql-experimental-functions`.
    Experimental,
    /// Available in Prometheus 2 only (removed in 3.0).
    RemovedIn3,
}

/// A PromQL function.
#[derive(Debug, PartialEq, Eq)]
pub struct Function {
    /// Its name.
    pub name: &'static str,
    /// The types of its arguments. For a variadic function the last one is optional and, when
    /// `variadic` is negative, repeatable.
    pub args: &'static [ValueType],
    /// 0: exactly `args`; n > 0: up to n optional arguments of the last type; -1: any number of them.
    pub variadic: i8,
    /// The type of its result.
    pub return_type: ValueType,
    /// Whether a default Prometheus accepts it.
    pub availability: Availability,
}

impl Function {
    /// The fewest arguments the function takes.
    pub fn min_args(&self) -> usize {
        if self.variadic == 0 {
            self.args.len()
        } else {
            self.args.len().saturating_sub(1)
        }
    }

    /// The most arguments the function takes; `None` when unbounded.
    pub fn max_args(&self) -> Option<usize> {
        match self.variadic {
            0 => Some(self.args.len()),
            n if n > 0 => Some(self.args.len().saturating_sub(1) + n.unsigned_abs() as usize),
            _ => None,
        }
    }

    /// The expected type of argument `index` (0-based), if the function takes that many.
    pub fn arg_type(&self, index: usize) -> Option<ValueType> {
        match self.args.get(index) {
            Some(t) => Some(*t),
            None if self.variadic != 0 => self.args.last().copied(),
            None => None,
        }
    }
}

const fn f(name: &'static str, args: &'static [ValueType], return_type: ValueType) -> Function {
    Function {
        name,
        args,
        variadic: 0,
        return_type,
        availability: Availability::Stable,
    }
}

const fn variadic(name: &'static str, args: &'static [ValueType], variadic: i8) -> Function {
    Function {
        name,
        args,
        variadic,
        return_type: Vector,
        availability: Availability::Stable,
    }
}

const fn experimental(mut function: Function) -> Function {
    function.availability = Availability::Experimental;
    function
}

const fn removed(mut function: Function) -> Function {
    function.availability = Availability::RemovedIn3;
    function
}

const V: &[ValueType] = &[Vector];
const M: &[ValueType] = &[Matrix];

/// Every function, sorted by name.
pub static FUNCTIONS: &[Function] = &[
    f("abs", V, Vector),
    f("absent", V, Vector),
    f("absent_over_time", M, Vector),
    f("acos", V, Vector),
    f("acosh", V, Vector),
    f("asin", V, Vector),
    f("asinh", V, Vector),
    f("atan", V, Vector),
    f("atanh", V, Vector),
    f("avg_over_time", M, Vector),
    f("ceil", V, Vector),
    f("changes", M, Vector),
    f("clamp", &[Vector, Scalar, Scalar], Vector),
    f("clamp_max", &[Vector, Scalar], Vector),
    f("clamp_min", &[Vector, Scalar], Vector),
    f("cos", V, Vector),
    f("cosh", V, Vector),
    f("count_over_time", M, Vector),
    variadic("day_of_month", V, 1),
    variadic("day_of_week", V, 1),
    variadic("day_of_year", V, 1),
    variadic("days_in_month", V, 1),
    f("deg", V, Vector),
    f("delta", M, Vector),
    f("deriv", M, Vector),
    experimental(f("double_exponential_smoothing", &[Matrix, Scalar, Scalar], Vector)),
    f("exp", V, Vector),
    experimental(f("first_over_time", M, Vector)),
    f("floor", V, Vector),
    f("histogram_avg", V, Vector),
    f("histogram_count", V, Vector),
    f("histogram_fraction", &[Scalar, Scalar, Vector], Vector),
    f("histogram_quantile", &[Scalar, Vector], Vector),
    f("histogram_stddev", V, Vector),
    f("histogram_stdvar", V, Vector),
    f("histogram_sum", V, Vector),
    removed(f("holt_winters", &[Matrix, Scalar, Scalar], Vector)),
    variadic("hour", V, 1),
    f("idelta", M, Vector),
    f("increase", M, Vector),
    experimental(variadic("info", &[Vector, Vector], 1)),
    f("irate", M, Vector),
    variadic("label_join", &[Vector, Str, Str, Str], -1),
    f("label_replace", &[Vector, Str, Str, Str, Str], Vector),
    f("last_over_time", M, Vector),
    f("ln", V, Vector),
    f("log10", V, Vector),
    f("log2", V, Vector),
    experimental(f("mad_over_time", M, Vector)),
    f("max_over_time", M, Vector),
    f("min_over_time", M, Vector),
    variadic("minute", V, 1),
    variadic("month", V, 1),
    f("pi", &[], Scalar),
    f("predict_linear", &[Matrix, Scalar], Vector),
    f("present_over_time", M, Vector),
    f("quantile_over_time", &[Scalar, Matrix], Vector),
    f("rad", V, Vector),
    f("rate", M, Vector),
    f("resets", M, Vector),
    variadic("round", &[Vector, Scalar], 1),
    f("scalar", V, Scalar),
    f("sgn", V, Vector),
    f("sin", V, Vector),
    f("sinh", V, Vector),
    f("sort", V, Vector),
    experimental(variadic("sort_by_label", &[Vector, Str], -1)),
    experimental(variadic("sort_by_label_desc", &[Vector, Str], -1)),
    f("sort_desc", V, Vector),
    f("sqrt", V, Vector),
    f("stddev_over_time", M, Vector),
    f("stdvar_over_time", M, Vector),
    f("sum_over_time", M, Vector),
    f("tan", V, Vector),
    f("tanh", V, Vector),
    f("time", &[], Scalar),
    f("timestamp", V, Vector),
    experimental(f("ts_of_first_over_time", M, Vector)),
    experimental(f("ts_of_last_over_time", M, Vector)),
    experimental(f("ts_of_max_over_time", M, Vector)),
    experimental(f("ts_of_min_over_time", M, Vector)),
    f("vector", &[Scalar], Vector),
    variadic("year", V, 1),
];

/// The function called `name` (case-sensitive, as in Prometheus).
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|function| function.name == name)
}
