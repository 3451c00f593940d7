// Namespace Vectors, not ItemVectors: that name is the record in Readers/ItemVectorReader.cs.
namespace SharpCtr.Data.Vectors;

/// <summary>
/// A sparse matrix in compressed-row form (row i's entries are Col/Value[RowStart[i] .. RowStart[i+1])).
/// Dense partners are column-major double arrays, the layout the SVD code orthogonalises in.
/// </summary>
public sealed class SparseMatrix
{
    public readonly int Rows, Cols;
    public readonly int[] RowStart;
    public readonly int[] Col;
    public readonly double[] Value;

    public SparseMatrix(int rows, int cols, int[] rowStart, int[] col, double[] value)
    {
        if (rowStart.Length != rows + 1 || col.Length != value.Length || rowStart[rows] != col.Length)
            throw new ArgumentException("inconsistent compressed-row arrays");
        Rows = rows; Cols = cols; RowStart = rowStart; Col = col; Value = value;
    }

    public int NonZeros => Col.Length;

    /// <summary>From a dense row-major array (tests, small inputs); zeros are dropped.</summary>
    public static SparseMatrix FromDense(double[] a, int rows, int cols)
    {
        var start = new int[rows + 1];
        var col = new List<int>();
        var val = new List<double>();
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
                if (a[i * cols + j] != 0) { col.Add(j); val.Add(a[i * cols + j]); }
            start[i + 1] = col.Count;
        }
        return new SparseMatrix(rows, cols, start, col.ToArray(), val.ToArray());
    }

    /// <summary>A·B for B [Cols × k] column-major; the result is [Rows × k] column-major.</summary>
    public double[] Multiply(double[] b, int k)
    {
        var y = new double[Rows * k];
        for (int i = 0; i < Rows; i++)
            for (int e = RowStart[i]; e < RowStart[i + 1]; e++)
            {
                int c = Col[e];
                double v = Value[e];
                for (int j = 0; j < k; j++) y[j * Rows + i] += v * b[j * Cols + c];
            }
        return y;
    }

    /// <summary>Aᵀ·B for B [Rows × k] column-major; the result is [Cols × k] column-major.</summary>
    public double[] TransposeMultiply(double[] b, int k)
    {
        var y = new double[Cols * k];
        for (int i = 0; i < Rows; i++)
            for (int e = RowStart[i]; e < RowStart[i + 1]; e++)
            {
                int c = Col[e];
                double v = Value[e];
                for (int j = 0; j < k; j++) y[j * Cols + c] += v * b[j * Rows + i];
            }
        return y;
    }
}
