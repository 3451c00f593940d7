using System.CommandLine;

namespace SharpCtr.Cli.Commands;

/// <summary>Lower bounds on numeric options, checked by the parser: `--seeds 0` is a usage error naming
/// the option instead of an empty table, `--requests 0` one instead of a crash.</summary>
static class OptionRanges
{
    public static Option<int> AtLeast(this Option<int> option, int min)
    {
        option.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < min) r.AddError($"{option.Name} must be at least {min}, got {v}");
        });
        return option;
    }

    public static Option<int?> AtLeast(this Option<int?> option, int min)
    {
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is int v && v < min) r.AddError($"{option.Name} must be at least {min}, got {v}");
        });
        return option;
    }

    public static Option<long> AtLeast(this Option<long> option, long min)
    {
        option.Validators.Add(r =>
        {
            long v = r.GetValueOrDefault<long>();
            if (v < min) r.AddError($"{option.Name} must be at least {min}, got {v}");
        });
        return option;
    }

    public static Option<double> Above(this Option<double> option, double bound)
    {
        option.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v > bound)) r.AddError($"{option.Name} must be greater than {bound}, got {v}");
        });
        return option;
    }
}
