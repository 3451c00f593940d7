namespace SharpCtr.Training.Reports;

/// <summary>Line: series as polylines with point markers over numeric x. Bar: distinct x values as categories, one bar per series.</summary>
public enum ChartKind { Line, Bar }
